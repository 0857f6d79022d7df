/*
 * support.js - what the pages do with JavaScript on.  Everything works
 * without it (forms post and redirect, times are shown in UTC); with it:
 *  - times are shown in the reader's local time;
 *  - on the chat page a reply is sent with fetch to the API, and new
 *    messages appear by polling GET .../messages/?after=<last uuid> with
 *    If-None-Match, so an unchanged thread costs a 304: every 3 s while
 *    the tab is visible, every 30 s while it is hidden;
 *  - when the poll's ETag moved (a message, or someone else changed the
 *    ticket's status, priority or assignee), the ticket's head is read
 *    again: the status badge (its labels are in the badge's data-label-*
 *    attributes), the priority and the assignee; the status buttons
 *    follow the status (a customer writing to a resolved ticket re-opens
 *    it: "Mark resolved" is offered again, "Re-open" no more);
 *  - a reply carries last_seen, the newest message shown: when the thread
 *    moved meanwhile the server holds it (409 stale_thread) with the new
 *    messages, which are shown; the draft stays and the button becomes
 *    "Send anyway" (sent again, it carries the new last_seen);
 *  - Ctrl+Enter (Cmd+Enter) in the reply box sends it;
 *  - on the queue, "All on this page" of the bulk bar ticks every
 *    ticket's box too (without it the server reads the box itself);
 *  - a chat page whose session is gone (a poll or a reply answered 401:
 *    logged out elsewhere, or the account disabled) says so at the top.
 * No inline script anywhere: the pages' Content-Security-Policy forbids
 * it, so this file finds its elements by id (templates/ticket.html).
 */
(function () {
	"use strict";

	var FAST = 3000, SLOW = 30000;

	function localTimes(root) {
		var fmt;
		try {
			fmt = new Intl.DateTimeFormat(undefined,
			    { dateStyle: "medium", timeStyle: "short" });
		} catch (e) {
			return;
		}
		root.querySelectorAll("time[datetime]:not(.ago)").forEach(function (t) {
			var d = new Date(t.getAttribute("datetime"));
			if (!isNaN(d.getTime())) {
				t.textContent = fmt.format(d);
				t.title = d.toISOString();
			}
		});
	}

	function csrfToken() {
		var m = document.querySelector('meta[name="csrf-token"]');
		return m ? m.getAttribute("content") : "";
	}

	function el(tag, cls, text) {
		var e = document.createElement(tag);
		if (cls)
			e.className = cls;
		if (text !== undefined)
			e.textContent = text;
		return e;
	}

	/* One message as templates/ticket.html draws it. */
	function messageItem(m) {
		var li = el("li"), who = el("div", "who"), body = el("div", "body");
		var sender = m.sender || m.user || {}, t = el("time");
		li.id = "m-" + m.uuid;
		li.dataset.uuid = m.uuid;
		li.className = "message " + (m.is_from_user ? "from-customer" :
		    "from-staff") + (m.is_internal ? " internal" : "");
		who.appendChild(el("span", "sender",
		    sender.display_name || sender.username || ""));
		if (!m.is_from_user) {
			who.appendChild(document.createTextNode(" "));
			who.appendChild(el("span", "role", "Support"));
		}
		if (m.is_internal) {
			who.appendChild(document.createTextNode(" "));
			who.appendChild(el("strong", "note-label",
			    "Internal note"));
		}
		who.appendChild(document.createTextNode(" \u00b7 "));
		t.setAttribute("datetime", m.created_at);
		t.textContent = m.created_at;
		who.appendChild(t);
		/* content_html is the server's cmark output in safe mode: raw
		 * HTML and unsafe links were removed there, as on the page. */
		body.innerHTML = m.content_html;
		li.appendChild(who);
		li.appendChild(body);
		localTimes(li);
		return li;
	}

	function chat(thread) {
		var url = thread.dataset.messagesUrl, etag = null, timer = null;
		var form = document.getElementById("reply");
		var status = document.getElementById("reply-status");
		var busy = false;
		var sendLabel = (document.getElementById("send") || {}).textContent;

		function lastUuid() {
			var items = thread.querySelectorAll("li[data-uuid]");
			return items.length ?
			    items[items.length - 1].dataset.uuid : null;
		}

		/* Add the messages not shown yet; true when there were any. */
		function append(list) {
			var added = false, seen;
			list.forEach(function (m) {
				if (!document.getElementById("m-" + m.uuid)) {
					thread.appendChild(messageItem(m));
					added = true;
				}
			});
			seen = form && form.elements.last_seen;
			if (seen && lastUuid())
				seen.value = lastUuid();
			return added;
		}

		/*
		 * The status buttons of templates/ticket.html for status, as
		 * lib/web/page.c's page_ticket offers them, in the same order.
		 */
		function refreshActions(status) {
			var actions = document.getElementById("status-form");
			var staff = thread.dataset.staff === "true";
			var closed = status === "closed";
			var done = closed || status === "resolved";
			if (!actions)
				return;
			[["resolve", "resolved", "Mark resolved", !done],
			    ["close", "closed", "Close ticket", !closed],
			    ["reopen", "open", "Re-open", staff && done]]
			    .forEach(function (a) {
				var b = document.getElementById(a[0]);
				if (!a[3]) {
					if (b)
						b.remove();
					return;
				}
				if (!b) {
					b = el("button", "secondary", a[2]);
					b.id = a[0];
					b.type = "submit";
					b.name = "status";
					b.value = a[1];
				}
				actions.appendChild(b);
			    });
		}

		/* The priority of templates/ticket.html. */
		function refreshPriority(priority) {
			var p = document.getElementById("ticket-priority");
			if (!p || !priority || p.dataset.priority === priority)
				return;
			p.dataset.priority = priority;
			p.textContent = priority;
		}

		/* "Assigned to" of templates/ticket.html: made, changed or gone. */
		function refreshAssignee(a) {
			var dd = document.getElementById("ticket-assignee");
			var facts = document.querySelector("dl.facts"), dt;
			var id = a ? String(a.id) : "";
			if (dd && dd.dataset.assignee === id)
				return;
			if (!a) {
				if (dd) {
					if (dd.previousElementSibling)
						dd.previousElementSibling.remove();
					dd.remove();
				}
				return;
			}
			if (!dd) {
				if (!facts)
					return;
				dt = el("dt", null, "Assigned to");
				dd = el("dd");
				dd.id = "ticket-assignee";
				facts.appendChild(dt);
				facts.appendChild(dd);
			}
			dd.dataset.assignee = id;
			dd.textContent = a.display_name || a.username || "";
		}

		/*
		 * The head of templates/ticket.html (status badge, priority,
		 * assignee), read again from the ticket after the poll's ETag
		 * moved.
		 */
		function refreshHead() {
			var badge = document.getElementById("ticket-status");
			if (!badge || !badge.dataset.ticketUrl)
				return;
			fetch(badge.dataset.ticketUrl, { credentials: "same-origin",
			    headers: { Accept: "application/json" } })
			    .then(function (r) {
				return r.status === 200 ? r.json() : null;
			    })
			    .then(function (t) {
				var key, label;
				if (!t)
					return;
				refreshPriority(t.priority);
				refreshAssignee(t.assignee);
				if (!t.status || t.status === badge.dataset.status)
					return;
				key = "label" + t.status.charAt(0).toUpperCase() +
				    t.status.slice(1);
				label = badge.dataset[key];
				badge.classList.remove("status-" + badge.dataset.status);
				badge.classList.add("status-" + t.status);
				badge.dataset.status = t.status;
				badge.textContent = label || t.status;
				refreshActions(t.status);
			    })
			    .catch(function () {});
		}

		function schedule() {
			clearTimeout(timer);
			timer = setTimeout(poll, document.hidden ? SLOW : FAST);
		}

		function poll() {
			var after = lastUuid();
			var headers = { Accept: "application/json" };
			if (busy)
				return schedule();
			if (etag)
				headers["If-None-Match"] = etag;
			busy = true;
			fetch(url + (after ? "?after=" + encodeURIComponent(after) :
			    ""), { headers: headers, credentials: "same-origin",
			    cache: "no-cache" })
			    .then(function (r) {
				if (r.status === 401)
					signedOut();
				/* The message polled after was deleted: resync. */
				if (r.status === 404 && after)
					document.dispatchEvent(new CustomEvent(
					    "support:moved"));
				if (r.status !== 200)
					return;
				etag = r.headers.get("ETag") || etag;
				/* A new tag: a message, or the ticket's head moved. */
				return r.json().then(function (list) {
					append(list);
					refreshHead();
					document.dispatchEvent(new CustomEvent(
					    "support:moved"));
				});
			    })
			    .catch(function () {})
			    .then(function () {
				busy = false;
				schedule();
			    });
		}

		function send(ev) {
			var box = form.elements.content, text = box.value;
			var internal = form.elements.is_internal;
			var button = document.getElementById("send");
			var seen = lastUuid();
			var files = form.elements.files;
			if (!text.trim() || !window.fetch)
				return;	/* the server says what is wrong */
			/* Files go up with the attachments' block (below). */
			if (files && files.files && files.files.length)
				return;
			ev.preventDefault();
			status.textContent = "Sending\u2026";
			button.disabled = true;
			fetch(url, {
				method: "POST",
				credentials: "same-origin",
				headers: {
					"Content-Type": "application/json",
					"Accept": "application/json",
					"X-CSRFToken": csrfToken()
				},
				body: JSON.stringify(seen ? {
					content: text,
					is_internal: !!(internal && internal.checked),
					last_seen: seen
				} : {
					content: text,
					is_internal: !!(internal && internal.checked)
				})
			}).then(function (r) {
				return r.json().then(function (body) {
					if (r.status === 401)
						signedOut();
					if (r.status === 403 && body.error &&
					    body.error.code === "csrf_failed")
						throw new Error("Your session has " +
						    "expired: reload the page.");
					if (r.status === 409 && body.error &&
					    body.error.code === "stale_thread") {
						/* Held: show what came, keep the draft. */
						append(body.messages || []);
						refreshHead();
						button.textContent = "Send anyway";
						throw new Error("New messages arrived " +
						    "while you were writing: read them, " +
						    "then send anyway.");
					}
					if (r.status !== 201)
						throw new Error(body.error ?
						    body.error.message : "Not sent.");
					append([body]);
					button.textContent = sendLabel;
					box.value = "";
					if (internal)
						internal.checked = false;
					status.textContent = "Sent.";
					setTimeout(function () {
						if (status.textContent === "Sent.")
							status.textContent = "";
					}, 3000);
					poll();
				});
			}).catch(function (e) {
				status.textContent = e.message ||
				    "Not sent: try again.";
			}).then(function () {
				button.disabled = false;
			});
		}

		if (form) {
			form.addEventListener("submit", send);
			form.elements.content.addEventListener("keydown",
			    function (ev) {
				if (ev.key === "Enter" && (ev.ctrlKey ||
				    ev.metaKey)) {
					if (form.requestSubmit)
						form.requestSubmit();
					else
						send(ev);
				}
			    });
		}
		document.addEventListener("visibilitychange", function () {
			if (!document.hidden)
				poll();
			else
				schedule();
		});
		schedule();
	}

	/*
	 * Part 9: the page's session is gone (logged out elsewhere, ended by
	 * an admin, or the account disabled): the poll or a reply got 401.
	 * Say so once, at the top, with a link to log in again; the
	 * reply form's draft stays in the box.
	 */
	function signedOut() {
		var main = document.getElementById("main"), p, a;
		var brand = document.querySelector("a.brand");
		if (!main || document.getElementById("signed-out"))
			return;
		p = el("p", "alert", "You are no longer signed in: your " +
		    "session ended or your account was disabled. ");
		p.id = "signed-out";
		p.setAttribute("role", "alert");
		a = el("a", null, "Log in again");
		/* The brand links to url_prefix + /support/. */
		a.href = (brand ? brand.pathname.replace(/\/support\/$/, "") :
		    "") + "/support/login/?next=" +
		    encodeURIComponent(location.pathname);
		p.appendChild(a);
		main.insertBefore(p, main.firstChild);
	}

	function bulkAll(all) {
		all.addEventListener("change", function () {
			document.querySelectorAll("input.bulk-pick").forEach(
			    function (box) {
				box.checked = all.checked;
			    });
		});
	}

	/*
	 * Presence, on the ticket page of staff (templates/ticket.html's
	 * #presence; docs/api.md "Presence"): which other agents have the
	 * ticket open and which is typing a reply.  The chat's poll carries
	 * it: for staff its ETag covers the others present, so when the tag
	 * moves ("support:moved") GET .../presence/ says who they are.
	 * Typing in the reply box says so (POST .../presence/ {"typing":
	 * true}) at most every TYPING_EVERY ms (the server shows it 8 s);
	 * an emptied box or a sent reply says it stopped; leaving the page
	 * says so ({"viewing": false}).
	 */
	var TYPING_EVERY = 4000;

	function presence(box, thread) {
		var url = thread.dataset.messagesUrl.replace(/messages\/$/,
		    "presence/");
		var form = document.getElementById("reply");
		var content = form && form.elements.content;
		var typing = false, lastTyping = 0, asked = 0;

		/* "A", "A and B", "A, B and C". */
		function names(list) {
			if (list.length < 2)
				return list.join("");
			return list.slice(0, -1).join(", ") + " and " +
			    list[list.length - 1];
		}

		function show(p) {
			var viewing = [], typers = [], parts = [], text;
			(p.viewers || []).forEach(function (v) {
				var u = v.user || {};
				(v.typing ? typers : viewing).push(
				    u.display_name || u.username || "");
			});
			if (typers.length)
				parts.push(names(typers) + (typers.length > 1 ?
				    " are" : " is") + " typing a reply\u2026");
			if (viewing.length)
				parts.push(names(viewing) + (viewing.length > 1 ?
				    " are" : " is") + " viewing");
			text = parts.join(" \u00b7 ");
			if (box.textContent !== text)
				box.textContent = text;
		}

		/* Only the newest answer is shown: they may cross. */
		function answer(promise) {
			var mine = ++asked;
			promise.then(function (r) {
				return r.status === 200 ? r.json() : null;
			}).then(function (p) {
				if (p && mine === asked)
					show(p);
			}).catch(function () {});
		}

		function read() {
			answer(fetch(url, { credentials: "same-origin",
			    cache: "no-store",
			    headers: { Accept: "application/json" } }));
		}

		function say(body, leaving) {
			answer(fetch(url, { method: "POST",
			    credentials: "same-origin", keepalive: !!leaving,
			    headers: { "Content-Type": "application/json",
				"Accept": "application/json",
				"X-CSRFToken": csrfToken() },
			    body: JSON.stringify(body) }));
		}

		function stopTyping() {
			if (!typing)
				return;
			typing = false;
			say({ typing: false });
		}

		if (content) {
			content.addEventListener("input", function () {
				var now = Date.now();
				if (!content.value.trim())
					return stopTyping();
				if (typing && now - lastTyping < TYPING_EVERY)
					return;
				typing = true;
				lastTyping = now;
				say({ typing: true });
			});
			form.addEventListener("submit", stopTyping);
		}
		document.addEventListener("support:moved", read);
		window.addEventListener("pagehide", function () {
			say({ viewing: false }, true);
		});
		read();
	}

	document.addEventListener("DOMContentLoaded", function () {
		var thread = document.getElementById("thread");
		var box = document.getElementById("presence");
		if (box && thread && thread.dataset.messagesUrl &&
		    thread.dataset.staff === "true" && window.fetch)
			presence(box, thread);
	});

	document.addEventListener("DOMContentLoaded", function () {
		var thread = document.getElementById("thread");
		var all = document.getElementById("bulk-all");
		localTimes(document);
		if (thread && thread.dataset.messagesUrl)
			chat(thread);
		if (all)
			bulkAll(all);
	});
})();

/*
 * Keyboard shortcuts for staff (docs/pages.md, "Keyboard shortcuts"), as
 * Help Scout and Zendesk have them: plain letters, never while typing in
 * a text field or a select, never with Ctrl, Alt or Meta held.
 *  - the queue (and any list of tickets: rows are "#tickets > li" or
 *    "#tickets [data-uuid]"): j / k the next / previous row (the row gets
 *    the class kbd-current and its subject link the focus, so Enter on it
 *    opens it as any link), o or Enter open it, x tick its bulk box;
 *  - a ticket: r reply (the reply box, internal note off), n internal
 *    note (the reply box, note on), a assign to me (#assign-me), e mark
 *    resolved (#resolve);
 *  - anywhere: ? the list of them in a modal <dialog> (Escape closes it,
 *    the focus goes back where it was), g then q the queue, g then c the
 *    customers (the header's links).
 * Only pages with the footer's "Keyboard shortcuts" button (staff pages,
 * templates/footer.html) get them; the button is hidden without
 * JavaScript, as the shortcuts need it.  A key whose element is missing
 * (a closed ticket has no reply box) does nothing and is left to the
 * browser.
 */
(function () {
	"use strict";

	var GO_WAIT = 1500;	/* ms between g and its second key */
	var helpOpener = null;	/* what had the focus when the help opened */
	var ROWS = "#tickets > li, #tickets [data-uuid]";
	var HELP = [
		["Queue", [["j", "Next ticket"], ["k", "Previous ticket"],
		    ["o", "Open the ticket (or Enter)"],
		    ["x", "Select the ticket for a bulk change"]]],
		["Ticket", [["r", "Reply to the customer"],
		    ["n", "Write an internal note"], ["a", "Assign to me"],
		    ["e", "Mark resolved"]]],
		["Anywhere", [["?", "These shortcuts"],
		    ["g then q", "Go to the queue"],
		    ["g then c", "Go to the customers"]]]
	];

	var NOT_TEXT = /^(checkbox|radio|button|submit|reset|image|file|range|color)$/;

	/* True when a key pressed in e is someone typing, not a shortcut. */
	function typing(e) {
		var t = (e && e.tagName || "").toLowerCase();
		if (!e)
			return false;
		if (e.isContentEditable || t === "textarea" || t === "select")
			return true;
		return t === "input" && !NOT_TEXT.test(e.type);
	}

	/* The rows of the list: each once, none inside another. */
	function rows() {
		var all = Array.prototype.slice.call(
		    document.querySelectorAll(ROWS));
		return all.filter(function (r) {
			return !all.some(function (o) {
				return o !== r && o.contains(r);
			});
		});
	}

	function currentRow(list) {
		var a = document.activeElement, i;
		for (i = 0; i < list.length; i++)
			if (a && a !== document.body && list[i].contains(a))
				return i;
		for (i = 0; i < list.length; i++)
			if (list[i].classList.contains("kbd-current"))
				return i;
		return -1;
	}

	/* Make row i of list the current one; false when there is none. */
	function select(list, i) {
		var row = list[i], link;
		if (!row)
			return false;
		list.forEach(function (r) {
			r.classList.remove("kbd-current");
		});
		row.classList.add("kbd-current");
		link = row.querySelector("a.subject") || row.querySelector("a[href]");
		if (link)
			link.focus({ preventScroll: true });
		row.scrollIntoView({ block: "nearest" });
		return true;
	}

	function move(step) {
		var list = rows(), i = currentRow(list);
		if (!list.length)
			return false;
		i = i < 0 ? 0 : Math.max(0, Math.min(list.length - 1, i + step));
		return select(list, i);
	}

	function inCurrent(sel) {
		var list = rows(), i = currentRow(list);
		return i < 0 ? null : list[i].querySelector(sel);
	}

	function clickIf(id) {
		var b = document.getElementById(id);
		if (!b || b.disabled)
			return false;
		b.click();
		return true;
	}

	/* The reply box, with the internal-note switch set to note. */
	function write(note) {
		var box = document.getElementById("content");
		var sw = document.getElementById("is_internal");
		if (!box || (note && !sw))
			return false;
		if (sw && sw.checked !== note) {
			sw.checked = note;
			sw.dispatchEvent(new Event("change", { bubbles: true }));
		}
		box.focus();
		return true;
	}

	function go(id) {
		var a = document.getElementById(id);
		if (!a || !a.href)
			return false;
		window.location.assign(a.href);
		return true;
	}

	/* The help dialog, made once; null without <dialog> support. */
	function helpDialog() {
		var d = document.getElementById("keys-help"), h, close;
		if (d)
			return d;
		d = document.createElement("dialog");
		if (typeof d.showModal !== "function")
			return null;
		d.id = "keys-help";
		d.className = "keys-help";
		d.setAttribute("role", "dialog");
		d.setAttribute("aria-modal", "true");
		d.setAttribute("aria-labelledby", "keys-help-title");
		h = document.createElement("h2");
		h.id = "keys-help-title";
		h.textContent = "Keyboard shortcuts";
		d.appendChild(h);
		HELP.forEach(function (sec) {
			var h3 = document.createElement("h3");
			var dl = document.createElement("dl");
			h3.textContent = sec[0];
			sec[1].forEach(function (k) {
				var dt = document.createElement("dt");
				var dd = document.createElement("dd");
				k[0].split(" then ").forEach(function (key, n) {
					var kbd = document.createElement("kbd");
					if (n)
						dt.appendChild(document.createTextNode(
						    " then "));
					kbd.textContent = key;
					dt.appendChild(kbd);
				});
				dd.textContent = k[1];
				dl.appendChild(dt);
				dl.appendChild(dd);
			});
			d.appendChild(h3);
			d.appendChild(dl);
		});
		d.appendChild(document.createElement("p")).textContent =
		    "Not while typing in a field. Escape closes this list.";
		close = document.createElement("button");
		close.type = "button";
		close.id = "keys-help-close";
		close.className = "secondary";
		close.textContent = "Close";
		close.addEventListener("click", function () {
			d.close();
		});
		d.appendChild(close);
		/*
		 * A click on the backdrop closes it too: such a click is the
		 * dialog's own, outside its box (one on its padding is inside).
		 */
		d.addEventListener("click", function (ev) {
			var b = d.getBoundingClientRect();
			if (ev.target === d && (ev.clientX < b.left ||
			    ev.clientX > b.right || ev.clientY < b.top ||
			    ev.clientY > b.bottom))
				d.close();
		});
		d.addEventListener("close", function () {
			var back = helpOpener;
			helpOpener = null;
			if (back && back.isConnected && back.focus)
				back.focus();
		});
		document.body.appendChild(d);
		return d;
	}

	function openHelp() {
		var d = helpDialog();
		if (!d || d.open)
			return !!d;
		helpOpener = document.activeElement;
		d.showModal();
		return true;
	}

	function install(button) {
		var pendingG = 0;
		var foot = button.closest("footer");

		if (foot)
			foot.hidden = false;
		button.hidden = false;
		button.addEventListener("click", openHelp);
		document.addEventListener("keydown", function (ev) {
			var k = ev.key, done = false, help, link, box, g;
			help = document.getElementById("keys-help");
			if (ev.defaultPrevented || ev.ctrlKey || ev.altKey ||
			    ev.metaKey || ev.isComposing ||
			    typing(ev.target) || (help && help.open))
				return;
			g = pendingG && Date.now() - pendingG < GO_WAIT;
			pendingG = 0;
			if (g) {
				if (k === "q")
					done = go("nav-tickets");
				else if (k === "c")
					done = go("nav-customers");
			} else if (k === "g") {
				pendingG = Date.now();
				done = true;
			} else if (k === "?") {
				done = openHelp();
			} else if (k === "j" || k === "k") {
				done = move(k === "j" ? 1 : -1);
			} else if (k === "o" || (k === "Enter" &&
			    (ev.target === document.body ||
			    ev.target.classList.contains("kbd-current")))) {
				link = inCurrent("a.subject") || inCurrent("a[href]");
				if (link) {
					link.click();
					done = true;
				}
			} else if (k === "x") {
				box = inCurrent("input.bulk-pick");
				if (box && !box.disabled) {
					box.click();
					done = true;
				}
			} else if (k === "r" || k === "n") {
				done = write(k === "n");
			} else if (k === "a") {
				done = clickIf("assign-me");
			} else if (k === "e") {
				done = clickIf("resolve");
			}
			if (done)
				ev.preventDefault();
		});
	}

	document.addEventListener("DOMContentLoaded", function () {
		var button = document.getElementById("keys-help-open");
		if (button && typeof document.createElement("dialog")
		    .showModal === "function")
			install(button);
	});
})();


/*
 * Issue 15 parts 3 and 5: the staff's ticket page (templates/ticket.html).
 *  - The controls (#ticket-controls: status, priority, assignee, "Assign
 *    to me") send their change as the API's PATCH and show it in place;
 *    without a script each form posts and the page comes back with a
 *    notice.
 *  - The canned-response picker (#canned-picker) asks the render API for
 *    the response filled in for this ticket and inserts it at the cursor
 *    of the reply box; without a script it posts and the page comes back
 *    with the reply box filled.
 */
(function () {
	"use strict";

	function token() {
		var m = document.querySelector('meta[name="csrf-token"]');
		return m ? m.getAttribute("content") : "";
	}

	function call(method, url, body) {
		return fetch(url, {
			method: method,
			credentials: "same-origin",
			headers: { "Content-Type": "application/json",
			    "Accept": "application/json", "X-CSRFToken": token() },
			body: JSON.stringify(body)
		}).then(function (r) {
			return r.json().then(function (b) {
				var f, why;
				if (r.ok)
					return b;
				f = b.error && b.error.fields;
				why = f ? Object.keys(f).map(function (k) {
					return f[k];
				}).join(" ") : "";
				throw new Error(why || (b.error ? b.error.message :
				    "That did not work."));
			});
		});
	}

	function optionLabel(select, value) {
		var i;
		for (i = 0; i < select.options.length; i++)
			if (select.options[i].value === value)
				return select.options[i].textContent;
		return value;
	}

	/* The head of the page after a change: badge, priority, assignee. */
	function showTicket(t) {
		var badge = document.getElementById("ticket-status");
		var pri = document.getElementById("ticket-priority");
		var dd = document.getElementById("ticket-assignee");
		var facts = document.querySelector("dl.facts"), dt, key;
		var sel = document.getElementById("control-assignee");
		if (badge && t.status && badge.dataset.status !== t.status) {
			/* data-label-waiting_for_admin: labelWaiting_for_admin */
			key = "label" + t.status.charAt(0).toUpperCase() +
			    t.status.slice(1);
			badge.classList.remove("status-" + badge.dataset.status);
			badge.classList.add("status-" + t.status);
			badge.dataset.status = t.status;
			badge.textContent = badge.dataset[key] || t.status;
		}
		if (pri && t.priority) {
			pri.dataset.priority = t.priority;
			pri.textContent = t.priority;
		}
		if (!t.assignee) {
			if (dd) {
				if (dd.previousElementSibling)
					dd.previousElementSibling.remove();
				dd.remove();
			}
		} else {
			if (!dd && facts) {
				dt = document.createElement("dt");
				dt.textContent = "Assigned to";
				dd = document.createElement("dd");
				dd.id = "ticket-assignee";
				facts.appendChild(dt);
				facts.appendChild(dd);
			}
			if (dd) {
				dd.dataset.assignee = String(t.assignee.id);
				dd.textContent = t.assignee.display_name ||
				    t.assignee.username || "";
			}
		}
		if (sel)
			sel.value = t.assignee ? String(t.assignee.id) : "";
		["status", "priority"].forEach(function (f) {
			var s = document.getElementById("control-" + f);
			if (s && t[f])
				s.value = t[f];
		});
	}

	function controls(section) {
		var result = document.getElementById("control-result");
		section.querySelectorAll("form.control").forEach(function (form) {
			form.addEventListener("submit", function (ev) {
				var body = {}, words = [];
				if (!window.fetch || !form.dataset.ticketUrl)
					return;
				ev.preventDefault();
				Array.prototype.forEach.call(form.elements,
				    function (e) {
					if (e.name === "status" || e.name === "priority") {
						body[e.name] = e.value;
						words.push((e.name === "status" ? "Status" :
						    "Priority") + " changed to " +
						    (e.tagName === "SELECT" ?
						    optionLabel(e, e.value) : e.value) + ".");
					} else if (e.name === "assignee") {
						body.assignee = e.value === "" ? null :
						    parseInt(e.value, 10);
						words.push(e.value === "" ? "Unassigned." :
						    e.tagName === "SELECT" ? "Assigned to " +
						    optionLabel(e, e.value) + "." :
						    "Assigned to you.");
					}
				    });
				result.textContent = "Saving\u2026";
				call("PATCH", form.dataset.ticketUrl, body)
				    .then(function (t) {
					showTicket(t);
					result.textContent = words.join(" ");
				    })
				    .catch(function (e) {
					result.textContent = e.message;
				    });
			});
		});
	}

	/* Put text into the textarea box where its cursor is. */
	function insertAtCursor(box, text) {
		var start = box.selectionStart, end = box.selectionEnd;
		if (typeof start !== "number") {
			box.value += text;
			return;
		}
		box.value = box.value.slice(0, start) + text +
		    box.value.slice(end);
		box.selectionStart = box.selectionEnd = start + text.length;
	}

	function picker(form) {
		var box = document.getElementById("content");
		var note = document.createElement("p");
		note.id = "canned-status";
		note.setAttribute("role", "status");
		note.className = "muted";
		form.appendChild(note);
		form.addEventListener("submit", function (ev) {
			var id = form.elements.canned.value;
			if (!window.fetch || !box || !id)
				return;
			ev.preventDefault();
			note.textContent = "Inserting\u2026";
			call("POST", form.dataset.renderUrl + encodeURIComponent(id) +
			    "/render/", { ticket: form.dataset.ticket })
			    .then(function (b) {
				insertAtCursor(box, b.content);
				box.focus();
				note.textContent = "Inserted: check it, then send.";
			    })
			    .catch(function (e) {
				note.textContent = e.message;
			    });
		});
	}

	document.addEventListener("DOMContentLoaded", function () {
		var section = document.getElementById("ticket-controls");
		var form = document.getElementById("canned-picker");
		if (section)
			controls(section);
		if (form && form.dataset.renderUrl)
			picker(form);
	});
})();


/*
 * The queue (issue 15 part 1): a relative time ("5 min ago", time.ago)
 * keeps its words; its title, the absolute time, is put in local time.
 */
(function () {
	"use strict";
	document.addEventListener("DOMContentLoaded", function () {
		var fmt;
		try {
			fmt = new Intl.DateTimeFormat(undefined,
			    { dateStyle: "medium", timeStyle: "short" });
		} catch (e) {
			return;
		}
		document.querySelectorAll("time.ago[datetime]").forEach(
		    function (t) {
			var d = new Date(t.getAttribute("datetime"));
			if (!isNaN(d.getTime()))
				t.title = fmt.format(d);
		    });
	});
})();


/*
 * Messages edited or deleted by staff (issue 17 part 8): when the chat's
 * poll sees the thread move ("support:moved"), the whole thread is read
 * once and the page follows it: a message whose "edited_at" changed gets
 * its new text and its "Edited" mark, one that is gone leaves the page.
 * New messages stay the poll's to add.  Without JavaScript the page shows
 * the same on its next load.
 */
(function () {
	"use strict";
	var busy = false, again = false;

	function mark(li, m) {
		var p = li.querySelector("p.edited"), t;
		if (!m.edited_at)
			return;
		if (!p) {
			p = document.createElement("p");
			p.className = "muted edited";
			p.id = "edited-" + m.uuid;
			li.querySelector(".body").after(p);
		}
		p.textContent = "Edited ";
		t = document.createElement("time");
		t.setAttribute("datetime", m.edited_at);
		t.textContent = new Date(m.edited_at).toLocaleString();
		p.appendChild(t);
	}

	function resync(thread) {
		if (busy) {
			again = true;
			return;
		}
		busy = true;
		fetch(thread.dataset.messagesUrl, { credentials: "same-origin",
		    cache: "no-cache", headers: { Accept: "application/json" } })
		    .then(function (r) {
			return r.status === 200 ? r.json() : null;
		    })
		    .then(function (list) {
			var byUuid = {};
			if (!list)
				return;
			list.forEach(function (m) {
				byUuid[m.uuid] = m;
			});
			thread.querySelectorAll("li[data-uuid]").forEach(
			    function (li) {
				var m = byUuid[li.dataset.uuid], body;
				if (!m) {
					li.remove();
					return;
				}
				if ((m.edited_at || "") === (li.dataset.edited || ""))
					return;
				li.dataset.edited = m.edited_at || "";
				body = li.querySelector(".body");
				/* The server's cmark output in safe mode, as the
				 * page itself shows it. */
				if (body)
					body.innerHTML = m.content_html;
				mark(li, m);
			    });
		    })
		    .catch(function () {})
		    .then(function () {
			busy = false;
			if (again) {
				again = false;
				resync(thread);
			}
		    });
	}

	document.addEventListener("DOMContentLoaded", function () {
		var thread = document.getElementById("thread");
		if (!thread || !thread.dataset.messagesUrl || !window.fetch)
			return;
		document.addEventListener("support:moved", function () {
			resync(thread);
		});
	});
})();

/*
 * Attachments (docs/attachments.md): on the chat page's reply form, files
 * may be dropped on the file field's box, and a reply with files is sent
 * with XMLHttpRequest (multipart, as the form itself would be) so that a
 * progress bar shows the upload; the page is read again once it is in.
 * Without JavaScript the form posts the same body and the server answers
 * with the page.
 */
(function () {
	"use strict";

	function csrf() {
		var m = document.querySelector('meta[name="csrf-token"]');
		return m ? m.getAttribute("content") : "";
	}

	function names(input) {
		var out = [];
		for (var i = 0; i < input.files.length; i++)
			out.push(input.files[i].name);
		return out.join(", ");
	}

	document.addEventListener("DOMContentLoaded", function () {
		var box = document.getElementById("attach-field");
		var form = document.getElementById("reply");
		var input = document.getElementById("files");
		if (!box || !form || !input || !window.XMLHttpRequest ||
		    !window.FormData)
			return;
		var chosen = document.createElement("p");
		chosen.id = "files-chosen";
		chosen.className = "muted";
		chosen.setAttribute("role", "status");
		box.appendChild(chosen);
		var bar = document.createElement("progress");
		bar.id = "upload-progress";
		bar.className = "attach-progress";
		bar.max = 100;
		bar.value = 0;
		bar.hidden = true;
		bar.setAttribute("aria-label", "Upload progress");
		box.appendChild(bar);

		function show() {
			chosen.textContent = input.files.length ?
			    "To send: " + names(input) : "";
		}
		input.addEventListener("change", show);
		["dragenter", "dragover"].forEach(function (t) {
			box.addEventListener(t, function (ev) {
				ev.preventDefault();
				box.classList.add("dragging");
			});
		});
		["dragleave", "drop"].forEach(function (t) {
			box.addEventListener(t, function () {
				box.classList.remove("dragging");
			});
		});
		box.addEventListener("drop", function (ev) {
			ev.preventDefault();
			if (ev.dataTransfer && ev.dataTransfer.files.length) {
				input.files = ev.dataTransfer.files;
				show();
			}
		});

		form.addEventListener("submit", function (ev) {
			var status = document.getElementById("reply-status");
			var button = document.getElementById("send");
			if (!input.files.length || ev.defaultPrevented)
				return;
			ev.preventDefault();
			var xhr = new XMLHttpRequest();
			xhr.open("POST", box.dataset.uploadUrl);
			xhr.setRequestHeader("Accept", "application/json");
			xhr.setRequestHeader("X-CSRFToken", csrf());
			xhr.upload.addEventListener("progress", function (e) {
				if (e.lengthComputable) {
					bar.hidden = false;
					bar.value = Math.round(100 * e.loaded / e.total);
				}
			});
			xhr.addEventListener("load", function () {
				var body = null;
				try {
					body = JSON.parse(xhr.responseText);
				} catch (e) {
					body = null;
				}
				if (xhr.status === 201) {
					bar.value = 100;
					if (status)
						status.textContent = "Sent.";
					window.location.reload();
					return;
				}
				bar.hidden = true;
				if (button)
					button.disabled = false;
				if (status)
					status.textContent = body && body.error ?
					    body.error.message : "Not sent: try again.";
			});
			xhr.addEventListener("error", function () {
				bar.hidden = true;
				if (button)
					button.disabled = false;
				if (status)
					status.textContent = "Not sent: try again.";
			});
			if (button)
				button.disabled = true;
			if (status)
				status.textContent = "Uploading\u2026";
			bar.hidden = false;
			bar.value = 0;
			var data = new FormData(form);
			/* Never held (409): the page is read again anyway. */
			if (data.delete)
				data.delete("last_seen");
			xhr.send(data);
		});
	});
})();
