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
		root.querySelectorAll("time[datetime]").forEach(function (t) {
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
				if (r.status !== 200)
					return;
				etag = r.headers.get("ETag") || etag;
				/* A new tag: a message, or the ticket's head moved. */
				return r.json().then(function (list) {
					append(list);
					refreshHead();
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
			if (!text.trim() || !window.fetch)
				return;	/* the server says what is wrong */
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
