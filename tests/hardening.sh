#!/bin/sh
# hardening.sh [BUILD] - check that the built programs carry the protections
# configure adds (docs/security.md, "The build"), by reading the binaries
# with readelf and objdump from binutils.  Prints TAP; exits 1 when one is
# lost.
#
# Debian 12's C runtime start files are not marked for CET, so the linker
# does not mark a program as a whole; -fcf-protection shows instead as the
# ENDBR64 that opens main and as the IBT and SHSTK marks of our own objects.
set -u
BUILD=${1:-.}
n=0
bad=0

t() {	# t DESCRIPTION COMMAND...: one test
	local what=$1
	shift
	n=$((n + 1))
	if "$@" >/dev/null 2>&1; then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what"
		bad=$((bad + 1))
	fi
}

pie() { readelf -hW "$1" | grep -q 'Type:.*DYN'; }
canary() { readelf --dyn-syms -W "$1" | grep -q '__stack_chk_fail'; }
fortify() { readelf --dyn-syms -W "$1" | grep -v __stack_chk_fail | grep -qE '__[a-z0-9_]+_chk'; }
# Frames over a page are probed a page at a time: "or $0x0,(%rsp)".
clash() { objdump -d --no-show-raw-insn "$1" | grep -qE 'or[q]?[[:space:]]+\$0x0,\(%rsp\)'; }
endbr() {
	objdump -d --no-show-raw-insn --disassemble=main "$1" |
	    grep -A1 '<main>:' | tail -1 | grep -q endbr64
}
cet_objects() {
	for o in "$BUILD"/lib/*/*.o "$BUILD"/cgi-bin/*.o; do
		readelf -n "$o" | grep -q 'x86 feature: IBT, SHSTK' || return 1
	done
}

programs=$(for f in "$BUILD"/cgi-bin/* "$BUILD"/bin/supportctl \
    "$BUILD"/bin/support-mailin; do
	case $f in *.c | *.h | *.o) continue ;; esac
	[ -f "$f" ] && [ -x "$f" ] && echo "$f"
done)
t "there are programs to check" test -n "$programs"
for p in $programs; do
	name=${p#"$BUILD"/}
	t "$name is a position-independent executable" pie "$p"
	t "$name has full RELRO (GNU_RELRO and BIND_NOW)" sh -c \
	    "readelf -lW '$p' | grep -q GNU_RELRO && readelf -dW '$p' | grep -qE 'BIND_NOW|FLAGS_1.*NOW'"
	t "$name has stack canaries (__stack_chk_fail)" canary "$p"
	t "$name has fortified calls (__*_chk)" fortify "$p"
	t "$name probes large stack frames (stack clash protection)" clash "$p"
	t "$name opens main with ENDBR64 (CET)" endbr "$p"
done
t "every object of lib/ and cgi-bin/ is marked IBT and SHSTK" cet_objects
echo "1..$n"
[ "$bad" -eq 0 ]
