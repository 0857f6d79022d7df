#!/bin/sh
# test_confdoc.sh - every key of support.conf does what its page says: each
# key lib/base/conf.c reads is described in support.conf(5) and shown in
# conf/support.conf.example, each key those describe is one conf.c reads,
# and each key's field is used somewhere outside conf.c (a key read and then
# ignored fails), except the keys the page marks as taking effect only with
# later work ("change nothing yet", listed in LATER below, which must then
# say so on the page); the same for the keys of a [webhook.NAME] section.
# make check runs it.  Prints TAP.
set -u
src=${srcdir:-.}
conf=$src/lib/base/conf.c
man=$src/man/support.conf.5
example=$src/conf/support.conf.example
# Keys read and checked that take effect with later work, as the page says.
LATER=""
n=0
bad=0

ok() {	# ok COND-STATUS WHAT
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		bad=$((bad + 1))
		echo "not ok $n - $2"
	fi
}

# Keys conf.c parses by name (not from its table), with their fields.
NAMED="auto_assign:auto_assign durability:durable"

# "key field" pairs: the table's rows, then the keys parsed by name.
pairs=$(sed -n 's/.*{ "[a-z]*", "\([a-z_]*\)", K_[A-Z]*, O(\([a-z_]*\)).*/\1 \2/p' "$conf"
	for kf in $NAMED; do echo "${kf%%:*} ${kf#*:}"; done)
[ -n "$pairs" ]; ok $? "conf.c's keys are found"
byname=$(sed -n 's/.*strcmp(name, "\([a-z_]*\)").*/\1/p' "$conf" | sort | tr '\n' ' ')
named=$(for kf in $NAMED; do echo "${kf%%:*}"; done | sort | tr '\n' ' ')
[ "$byname" = "$named" ]; ok $? "the keys conf.c parses by name are $named"

while read -r key field; do
	grep -q "^\.It Cm $key No = " "$man"; ok $? "$key is described in support.conf(5)"
	grep -q "^;*$key =" "$example"; ok $? "$key is in support.conf.example"
	case " $LATER " in
	*" $key "*)
		sed -n "/^\.It Cm $key No = /,/^\.It /p" "$man" | grep -q "takes effect only with"
		ok $? "$key says on the page with what it takes effect"
		;;
	*)
		grep -rlE "(->|\.)$field\b" "$src/lib" "$src/cgi-bin" "$src/bin" --include='*.c' |
		    grep -v '/conf\.c$' | grep -q .
		ok $? "$key ($field) is used outside conf.c"
		;;
	esac
done <<EOF
$pairs
EOF

# The keys of a [webhook.NAME] section: conf.c's webhook_keys table, each
# described under ".Ss [webhook.NAME]" in support.conf(5), in the
# example's commented section, and its field used outside conf.c.
hookkeys=$(sed -n 's/.*{ "\([a-z_]*\)", WK_[A-Z_]* },.*/\1/p' "$conf")
[ -n "$hookkeys" ]; ok $? "conf.c's [webhook.NAME] keys are found"
hookman=$(sed -n '/^\.Ss \[webhook\.NAME\]/,/^\.S[hs] /p' "$man")
for key in $hookkeys; do
	echo "$hookman" | grep -q "^\.It Cm $key No = "; ok $? "[webhook.NAME] $key is described in support.conf(5)"
	sed -n '/^;\[webhook\./,$p' "$example" | grep -q "^;$key ="
	ok $? "[webhook.NAME] $key is in support.conf.example"
	grep -rlE "(->|\.)$key\b" "$src/lib" "$src/cgi-bin" "$src/bin" --include='*.c' |
	    grep -v '/conf\.c$' | grep -q .
	ok $? "[webhook.NAME] $key is used outside conf.c"
done

for key in $(sed -n 's/^\.It Cm \([a-z_]*\) No = .*/\1/p' "$man"); do
	{ echo "$pairs" | grep -q "^$key " ||
	    echo "$hookman" | grep -q "^\.It Cm $key No = "; }
	ok $? "support.conf(5)'s $key is a key conf.c reads"
done
echo "1..$n"
[ $bad -eq 0 ]
