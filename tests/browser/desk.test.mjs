// desk.test.mjs - the web desk in a real browser: headless Debian Chromium
// driven by playwright-core, against the desk run.py started.
//
// Environment (set by run.py): SUPPORT_URL (http://127.0.0.1:PORT),
// SUPPORT_USERS (JSON: name -> {password, token, role}; alice and bob are
// customers, carol an agent), SHOT_DIR (where screenshots go).
//
// Each test() is one step a user would take; they run in order and the
// first three share one customer (the one the register test creates).
// Every page any test opens is watched for console errors, uncaught page
// errors and Content-Security-Policy violations.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
	BASE, USERS, api as apiCall, expectStatus, logIn, newContext, pagesLoaded,
	postForm, problems, shooter, step as libStep, waitUntil,
} from './lib.mjs';

const LIVE_TIMEOUT = 15000;     // a message must show on the other page within this
const ISO_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

// The registered customer, shared by the first tests.
const customer = {
	username: 'erin' + Date.now().toString(36),
	display: 'Erin Example',
	password: 'erin-Secret-pass-1',
	page: null,             // the customer's signed-in page
};

// A screenshot of the whole page, numbered in the order taken.
const shot = shooter('');

// Run one test step with its name recorded for the problem list (the last
// test looks at them all).
function step(name, fn) {
	libStep(name, fn, { check: false });
}

function path0(page) {
	return new URL(page.url()).pathname;
}

// The message list of a chat page.
function thread(page) {
	return page.locator('#thread');
}

function messageWith(page, text) {
	return thread(page).locator('li', { hasText: text });
}

// The status shown on a chat page, as text (the badge's id is one of the
// stable ones of docs/pages.md).
async function statusText(page) {
	return (await page.locator('#ticket-status').innerText()).trim();
}

// Mark the page so a reload (which would clear it) can be told apart from
// a live update.
async function markNoReload(page) {
	await page.evaluate(() => { window.__noReload = 'still here'; });
}

async function assertNotReloaded(page, who) {
	assert.equal(await page.evaluate(() => window.__noReload), 'still here',
	    `the ${who} page was reloaded (a live update needs no reload)`);
}

// Every <time> of the page: its text is not the raw ISO string of its
// datetime, and a clock time in it is the reader's own local time in
// `timeZone`, not UTC.
async function assertLocalTimes(page, timeZone) {
	const times = await page.locator('time[datetime]').evaluateAll((els) =>
	    els.map((e) => ({ iso: e.getAttribute('datetime'), text: e.textContent.trim() })));
	assert.ok(times.length > 0, 'the page shows times');
	for (const t of times) {
		assert.ok(t.text !== t.iso && !ISO_RE.test(t.text),
		    `time shown as the raw ISO string: ${t.text}`);
		const clock = /(\d{1,2}):(\d{2})/.exec(t.text);
		if (!clock)
			continue;
		const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
			timeZone, hour: 'numeric', minute: '2-digit', hourCycle: 'h23',
		}).formatToParts(new Date(t.iso)).map((p) => [p.type, p.value]));
		const h = Number(parts.hour), m = parts.minute;
		const ok = [`${h}:${m}`, `${String(h).padStart(2, '0')}:${m}`,
		    `${h % 12 || 12}:${m}`];
		assert.ok(ok.some((s) => t.text.includes(s)),
		    `time "${t.text}" for ${t.iso} is not local time in ${timeZone} (${ok[0]})`);
	}
}

// Where a field's error message is: its accessible description
// (aria-describedby), else the first element after the field.
async function fieldError(page, field) {
	const ids = (await field.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
	for (const id of ids) {
		const e = page.locator(`[id="${id}"]`);
		if (await e.count() && (await e.innerText()).trim() &&
		    !/markdown/i.test(await e.innerText()))
			return e;
	}
	return field.locator('xpath=following-sibling::*[1]');
}

// ------------------------------------------------------------------------

step('a customer registers through the register page', async () => {
	const ctx = await newContext();
	const page = await ctx.newPage();
	customer.page = page;
	await page.goto('/support/login/');
	await shot(page, 'login-page');
	await Promise.all([
		page.waitForURL(/\/support\/register\//),
		page.getByRole('link', { name: /register|create an account|sign up/i }).first().click(),
	]);
	await shot(page, 'register-form');
	await page.getByLabel(/^user ?name/i).fill(customer.username);
	await page.getByLabel(/your name|display name/i).fill(customer.display);
	await page.getByLabel(/e-?mail/i).fill(customer.username + '@example.com');
	await page.getByLabel(/^password/i).fill(customer.password);
	await Promise.all([
		page.waitForURL((u) => !u.pathname.startsWith('/support/register/')),
		page.getByRole('button', { name: /create account|register|sign up/i }).click(),
	]);
	await shot(page, 'register-done');
	// Signed in as the new customer: the name shows, a log-out button is there.
	await assert.doesNotReject(page.getByText(customer.display).first().waitFor(),
	    'the new customer\'s name is shown after registering');
	assert.ok(await page.getByRole('button', { name: /log ?out/i }).isVisible(),
	    'a log-out button is shown after registering');
});

step('the customer logs out, then logs in again through the login page', async () => {
	assert.ok(customer.page, 'the register test left a signed-in customer');
	const page = customer.page;
	const out = await postForm(page, page.getByRole('button', { name: /log ?out/i }));
	assert.equal(out.status(), 303, 'log out answers with a redirect');
	await shot(page, 'logged-out');
	assert.equal(await page.getByRole('button', { name: /log ?out/i }).count(), 0,
	    'no log-out button once logged out');
	// My tickets now asks for a login, and comes back after it.
	await page.goto('/support/');
	assert.equal(path0(page), '/support/login/', 'my tickets asks a logged-out user to log in');
	// A wrong password first: an error, still on the login page.
	await page.getByLabel(/user ?name/i).fill(customer.username);
	await page.getByLabel(/^password/i).fill('not-the-password');
	expectStatus(page, '/support/login/', 401);
	const r = await postForm(page, page.getByRole('button', { name: /log ?in/i }));
	assert.ok(r.status() >= 400, `a wrong password is not a success (HTTP ${r.status()})`);
	await shot(page, 'login-wrong-password');
	assert.equal(path0(page), '/support/login/', 'a wrong password stays on the login page');
	await assert.doesNotReject(page.getByRole('alert').first().waitFor(),
	    'a wrong password is reported in an alert');
	await logIn(page, customer.username, customer.password);
	await shot(page, 'logged-in-my-tickets');
	assert.equal(path0(page), '/support/', 'back on my tickets after logging in (next=)');
	await assert.doesNotReject(page.getByRole('heading', { level: 1 }).first().waitFor());
	assert.ok(await page.getByRole('button', { name: /log ?out/i }).isVisible(),
	    'signed in again');
});

step('the customer opens a ticket through the New ticket page', async () => {
	assert.ok(customer.page, 'a signed-in customer from the tests before');
	const page = customer.page;
	await page.goto('/support/');
	await Promise.all([
		page.waitForURL(/\/support\/tickets\/new\//),
		page.getByRole('link', { name: /new ticket/i }).first().click(),
	]);
	await shot(page, 'new-ticket-form');
	const text = 'The printer prints **nothing** at all';
	// An empty subject: the form comes back with the error beside the field
	// and what was typed kept.
	await page.getByRole('textbox', { name: /help|message|describe/i }).fill(text);
	expectStatus(page, '/support/tickets/new/', 400);
	const r = await postForm(page, page.getByRole('button', { name: /open ticket|create|submit|send/i }));
	assert.equal(r.status(), 400, 'the form comes back with 400');
	assert.equal(path0(page), '/support/tickets/new/', 'still on the New ticket page');
	await shot(page, 'new-ticket-empty-subject');
	const err = await fieldError(page, page.getByLabel(/subject/i));
	assert.ok(await err.isVisible(), 'an error is shown for the subject');
	const errText = (await err.innerText()).trim();
	assert.ok(errText.length > 0, 'the subject error says something');
	const fieldBox = await page.getByLabel(/subject/i).boundingBox();
	const errBox = await err.boundingBox();
	assert.ok(Math.abs(errBox.y - (fieldBox.y + fieldBox.height)) < 60,
	    `the subject error is next to the field (field bottom ${fieldBox.y + fieldBox.height}, error at ${errBox.y})`);
	assert.equal(await page.getByRole('textbox', { name: /help|message|describe/i }).inputValue(),
	    text, 'the message typed is kept');
	// Now with a subject: the ticket's chat page.
	await page.getByLabel(/subject/i).fill('Printer silent');
	await Promise.all([
		page.waitForURL(/\/support\/tickets\/[0-9a-f-]{36}\/$/),
		page.getByRole('button', { name: /open ticket|create|submit|send/i }).click(),
	]);
	await shot(page, 'ticket-opened');
	await assert.doesNotReject(page.getByRole('heading', { name: /Printer silent/ }).waitFor(),
	    'the chat page is headed by the subject');
	const first = messageWith(page, 'The printer prints');
	assert.equal(await first.count(), 1, 'the first message is in the thread');
	assert.equal((await first.locator('strong').innerText()).trim(), 'nothing',
	    'Markdown in the message is rendered');
});

// Open a ticket for `user` through the API (the set-up of a test whose
// subject is something else), return its chat page path.
async function apiTicket(user, subject, message) {
	const r = await fetch(BASE + '/api/support/tickets/', {
		method: 'POST',
		headers: { Authorization: 'Bearer ' + USERS[user].token, 'Content-Type': 'application/json' },
		body: JSON.stringify({ subject, initial_message: message }),
	});
	assert.equal(r.status, 201, 'ticket created through the API for the set-up');
	const t = await r.json();
	return `/support/tickets/${t.uuid}/`;
}

// Send a reply from a chat page with the reply box.
async function reply(page, text, { internal = false } = {}) {
	const box = page.getByRole('textbox', { name: /reply|message/i });
	await box.fill(text);
	if (internal)
		await page.getByRole('checkbox', { name: /internal/i }).check();
	await page.getByRole('button', { name: /^send reply/i }).click();
}

step('live conversation: customer and staff pages open at once, no reload', async () => {
	const tz = 'Asia/Kolkata';          // UTC+5:30: a UTC time would show other minutes
	const url = await apiTicket('alice', 'Live chat about the invoice',
	    'Hello, I have a question about my invoice.');
	const cctx = await newContext({ timezoneId: tz });
	const sctx = await newContext({ timezoneId: 'America/New_York' });
	const cust = await cctx.newPage();
	const staff = await sctx.newPage();
	await cust.goto(url);
	assert.equal(path0(cust), '/support/login/', 'the chat page asks for a login first');
	await logIn(cust, 'alice', USERS.alice.password);
	assert.equal(path0(cust), url, 'after the login the customer is on the ticket (next=)');
	// The agent finds the ticket in the queue.
	await logIn(staff, 'carol', USERS.carol.password);
	await staff.goto('/support/');
	await shot(staff, 'live-staff-queue');
	await Promise.all([
		staff.waitForURL(url),
		staff.getByRole('link', { name: /Live chat about the invoice/ }).click(),
	]);
	await markNoReload(cust);
	await markNoReload(staff);
	await shot(cust, 'live-customer-open');
	await shot(staff, 'live-staff-open');
	await assertLocalTimes(cust, tz);
	await assertLocalTimes(staff, 'America/New_York');

	// customer -> staff
	const staffStatus0 = await statusText(staff);
	const c1 = 'Customer here: the total is wrong ' + Date.now();
	await reply(cust, c1);
	await messageWith(cust, c1).waitFor({ timeout: LIVE_TIMEOUT });
	assert.equal(await cust.getByRole('textbox', { name: /reply|message/i }).inputValue(), '',
	    'the reply box is emptied once sent');
	await messageWith(staff, c1).waitFor({ timeout: LIVE_TIMEOUT });
	// The status moved (the customer wrote): the staff page says so.
	await waitUntil(async () => (await statusText(staff)) !== staffStatus0, LIVE_TIMEOUT,
	    `the staff page's status follows the customer's reply (still "${staffStatus0}")`);
	assert.match(await statusText(staff), /reply/i, 'the staff page shows the ticket needs a reply');
	await shot(staff, 'live-staff-sees-customer-reply');
	await assertNotReloaded(staff, 'staff');
	await assertNotReloaded(cust, 'customer');

	// staff -> customer
	const s1 = 'Staff here: we will refund the difference ' + Date.now();
	await reply(staff, s1);
	await messageWith(cust, s1).waitFor({ timeout: LIVE_TIMEOUT });
	await waitUntil(async () => /your reply/i.test(await statusText(cust)), LIVE_TIMEOUT,
	    'the customer page\'s status follows the staff reply');
	await shot(cust, 'live-customer-sees-staff-reply');
	await assertNotReloaded(cust, 'customer');
	await assertNotReloaded(staff, 'staff');
	const custClass = await messageWith(cust, c1).getAttribute('class');
	const staffClass = await messageWith(cust, s1).getAttribute('class');
	assert.notEqual(custClass, staffClass, 'customer and staff messages look different');
	await assertLocalTimes(cust, tz);

	// an internal note: on the staff page, never on the customer's
	const note = 'Internal: customer is on the old plan ' + Date.now();
	await reply(staff, note, { internal: true });
	await messageWith(staff, note).waitFor({ timeout: LIVE_TIMEOUT });
	assert.match(await messageWith(staff, note).innerText(), /internal/i,
	    'the note is marked internal on the staff page');
	const s2 = 'Staff again: refund sent ' + Date.now();
	if (await staff.getByRole('checkbox', { name: /internal/i }).isChecked())
		await staff.getByRole('checkbox', { name: /internal/i }).uncheck();
	await reply(staff, s2);
	// The public reply after the note reached the customer: the poll has
	// gone past the note.
	await messageWith(cust, s2).waitFor({ timeout: LIVE_TIMEOUT });
	await shot(staff, 'live-staff-internal-note');
	await shot(cust, 'live-customer-no-internal-note');
	assert.equal(await cust.getByText(note).count(), 0, 'the internal note is not on the customer page');
	await cust.reload();
	assert.equal(await cust.getByText(note).count(), 0, 'nor after a reload');
	assert.equal(await messageWith(cust, s2).count(), 1, 'the public reply stays after a reload');

	// the customer marks it resolved
	await postForm(cust, cust.getByRole('button', { name: /resolve/i }));
	assert.equal(path0(cust), url, 'back on the chat page after resolving');
	await waitUntil(async () => /resolved/i.test(await statusText(cust)), LIVE_TIMEOUT,
	    'the status shows resolved');
	await shot(cust, 'live-customer-resolved');
	await staff.reload();
	assert.match(await statusText(staff), /resolved/i, 'the staff page shows it resolved too');
	assert.equal(await staff.getByRole('button', { name: /re-open/i }).count(), 1,
	    'staff are offered to re-open a resolved ticket');
	assert.equal(await staff.getByRole('button', { name: /resolve/i }).count(), 0,
	    'a resolved ticket offers no "Mark resolved" to staff');
	assert.equal(await cust.getByRole('button', { name: /resolve/i }).count(), 0,
	    'nor to the customer');

	// The customer writes again: the ticket re-opens, and the buttons of
	// both pages follow without a reload.
	await markNoReload(cust);
	await markNoReload(staff);
	const c2 = 'Customer again: one more question ' + Date.now();
	await reply(cust, c2);
	await waitUntil(async () => (await cust.getByRole('button', { name: /resolve/i }).count()) === 1,
	    LIVE_TIMEOUT, 'the customer page offers "Mark resolved" again after writing to a resolved ticket');
	await messageWith(staff, c2).waitFor({ timeout: LIVE_TIMEOUT });
	await waitUntil(async () =>
	    (await staff.getByRole('button', { name: /re-open/i }).count()) === 0 &&
	    (await staff.getByRole('button', { name: /resolve/i }).count()) === 1,
	    LIVE_TIMEOUT, 'the staff page drops "Re-open" and offers "Mark resolved" once the customer wrote');
	await shot(staff, 'live-staff-reopened-by-customer');
	await assertNotReloaded(cust, 'customer');
	await assertNotReloaded(staff, 'staff');
});

// A call to the API as user (the other person of a test).
function api(user, method, apiPath, body) {
	return apiCall(user, method, '/api/support' + apiPath, body);
}

step('someone else\'s change shows without a reload; a reply to a moved thread is held', async () => {
	const url = await apiTicket('alice', 'Held reply', 'Is the order shipped?');
	const uuid = url.split('/')[3];
	const ctx = await newContext();
	const cust = await ctx.newPage();
	await cust.goto(url);
	await logIn(cust, 'alice', USERS.alice.password);
	assert.equal(path0(cust), url, 'on the chat page');
	await markNoReload(cust);

	// Staff change the priority and take the ticket: the page follows.
	const who = await api('dave', 'GET', '/users/?q=carol');
	const carol = who.json.results.find((u) => u.username === 'carol');
	const r = await api('carol', 'PATCH', `/tickets/${uuid}/`,
	    { priority: 'urgent', assignee: carol.id });
	assert.equal(r.status, 200, 'PATCH by staff');
	await waitUntil(async () =>
	    (await cust.locator('#ticket-priority').innerText()) === 'urgent' &&
	    (await cust.locator('#ticket-assignee').count()) === 1, LIVE_TIMEOUT,
	    'the customer page shows the new priority and assignee without a reload');
	await assertNotReloaded(cust, 'customer');

	// The page stops seeing the thread move (its polls answer 304), staff
	// write, the customer sends: held, the new message shown, draft kept.
	await cust.route(/\/messages\/\?after=/, (route) => route.fulfill({ status: 304 }));
	const s1 = 'Shipped this morning ' + Date.now();
	assert.equal((await api('carol', 'POST', `/tickets/${uuid}/messages/`,
	    { content: s1 })).status, 201, 'staff reply through the API');
	expectStatus(cust, `/api/support/tickets/${uuid}/messages/`, 409);
	const draft = 'Where is it now? ' + Date.now();
	await reply(cust, draft);
	await messageWith(cust, s1).waitFor({ timeout: LIVE_TIMEOUT });
	const box = cust.getByRole('textbox', { name: /reply|message/i });
	assert.equal(await box.inputValue(), draft, 'the draft is kept');
	await cust.getByRole('button', { name: /send anyway/i }).waitFor({ timeout: LIVE_TIMEOUT });
	assert.equal(await messageWith(cust, draft).count(), 0, 'the held reply is not on the page');
	await shot(cust, 'held-reply');
	await cust.getByRole('button', { name: /send anyway/i }).click();
	await messageWith(cust, draft).waitFor({ timeout: LIVE_TIMEOUT });
	assert.equal(await box.inputValue(), '', 'the box is emptied once sent');
	await cust.unroute(/\/messages\/\?after=/);
	const thread = await api('alice', 'GET', `/tickets/${uuid}/messages/`);
	assert.deepEqual(thread.json.map((m) => m.content),
	    ['Is the order shipped?', s1, draft], 'the thread: the reply once, after the staff\'s');
	await assertNotReloaded(cust, 'customer');
});

step('the same flow with JavaScript disabled: forms post and redirect', async () => {
	const cctx = await newContext({ javaScriptEnabled: false });
	const sctx = await newContext({ javaScriptEnabled: false });
	const cust = await cctx.newPage();
	const staff = await sctx.newPage();
	await logIn(cust, 'bob', USERS.bob.password);
	await shot(cust, 'nojs-my-tickets');
	await cust.getByRole('link', { name: /new ticket/i }).first().click();
	await cust.waitForURL(/\/support\/tickets\/new\//);
	await cust.getByLabel(/subject/i).fill('No script here');
	await cust.getByRole('textbox', { name: /help|message|describe/i }).fill('Sent by a plain form.');
	let r = await postForm(cust, cust.getByRole('button', { name: /open ticket|create|submit|send/i }));
	assert.equal(r.status(), 303, 'the new ticket form answers with a redirect');
	assert.match(path0(cust), /^\/support\/tickets\/[0-9a-f-]{36}\/$/, 'redirected to the chat page');
	const url = path0(cust);
	await shot(cust, 'nojs-ticket-opened');
	const times = await cust.locator('time[datetime]').evaluateAll((els) =>
	    els.map((e) => e.textContent.trim()));
	assert.ok(times.length > 0 && times.every((t) => !ISO_RE.test(t)),
	    `times are readable without JavaScript, not raw ISO strings: ${times.join(', ')}`);

	const c1 = 'A reply without JavaScript ' + Date.now();
	await cust.getByRole('textbox', { name: /reply|message/i }).fill(c1);
	r = await postForm(cust, cust.getByRole('button', { name: /^send reply/i }));
	assert.equal(r.status(), 303, 'the reply form answers with a redirect');
	assert.equal(path0(cust), url, 'back on the chat page');
	assert.equal(await messageWith(cust, c1).count(), 1, 'the reply shows after the redirect');
	await shot(cust, 'nojs-customer-replied');

	await logIn(staff, 'carol', USERS.carol.password);
	await staff.goto(url);
	assert.equal(await messageWith(staff, c1).count(), 1, 'the staff page shows the reply');
	const s1 = 'Staff answer without JavaScript ' + Date.now();
	await staff.getByRole('textbox', { name: /reply|message/i }).fill(s1);
	r = await postForm(staff, staff.getByRole('button', { name: /^send reply/i }));
	assert.equal(r.status(), 303, 'the staff reply answers with a redirect');
	assert.equal(await messageWith(staff, s1).count(), 1, 'the staff reply shows after the redirect');
	const note = 'Internal note without JavaScript ' + Date.now();
	await staff.getByRole('textbox', { name: /reply|message/i }).fill(note);
	await staff.getByRole('checkbox', { name: /internal/i }).check();
	r = await postForm(staff, staff.getByRole('button', { name: /^send reply/i }));
	assert.equal(r.status(), 303, 'the internal note answers with a redirect');
	assert.equal(await messageWith(staff, note).count(), 1, 'the note shows on the staff page');
	await shot(staff, 'nojs-staff-replied');

	await cust.reload();
	assert.equal(await messageWith(cust, s1).count(), 1, 'the customer sees the staff reply');
	assert.equal(await cust.getByText(note).count(), 0, 'the customer never sees the internal note');
	r = await postForm(cust, cust.getByRole('button', { name: /resolve/i }));
	assert.equal(r.status(), 303, 'mark resolved answers with a redirect');
	assert.equal(path0(cust), url, 'back on the chat page after resolving');
	assert.match(await statusText(cust), /resolved/i, 'the status shows resolved');
	assert.match(await cust.locator('#status-changed').innerText(), /Status changed to Resolved/,
	    'a notice confirms the change');
	await shot(cust, 'nojs-resolved');
});

step('keyboard only: the login form is filled and sent with Tab and Enter', async () => {
	const ctx = await newContext();
	const page = await ctx.newPage();
	await page.goto('/support/login/');
	const focused = () => page.evaluate(() => {
		const e = document.activeElement;
		return e ? (e.id || e.name || e.tagName) : '';
	});
	const user = page.getByLabel(/user ?name/i);
	const userId = await user.evaluate((e) => e.id || e.name);
	let tabs = 0;
	while ((await focused()) !== userId && tabs < 15) {
		await page.keyboard.press('Tab');
		tabs++;
	}
	assert.equal(await focused(), userId, 'Tab reaches the username field');
	await page.keyboard.type('alice');
	await page.keyboard.press('Tab');
	const pwId = await page.getByLabel(/^password/i).evaluate((e) => e.id || e.name);
	assert.equal(await focused(), pwId, 'the next Tab goes to the password field');
	await page.keyboard.type(USERS.alice.password);
	await shot(page, 'keyboard-login-filled');
	const visible = await page.evaluate(() => {
		const e = document.activeElement;
		return getComputedStyle(e).outlineStyle !== 'none' ||
		    getComputedStyle(e).boxShadow !== 'none';
	});
	assert.ok(visible, 'the focused field shows a focus ring');
	await Promise.all([
		page.waitForURL((u) => !u.pathname.startsWith('/support/login/')),
		page.keyboard.press('Enter'),
	]);
	await shot(page, 'keyboard-logged-in');
	assert.ok(await page.getByRole('button', { name: /log ?out/i }).isVisible(),
	    'Enter in the password field logged in');
});

step('phone width 375px: every page fits without sideways scrolling', async () => {
	const ctx = await newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
	const page = await ctx.newPage();
	const tooWide = [];
	const checkFit = async (name) => {
		await shot(page, 'phone-' + name);
		const w = await page.evaluate(() => document.documentElement.scrollWidth);
		if (w > 375)
			tooWide.push(`${name} is ${w}px wide`);
	};
	await page.goto('/support/login/');
	await checkFit('login');
	await page.goto('/support/register/');
	await checkFit('register');
	// What people paste into a support chat: a long link, a transaction id.
	const url = await apiTicket('alice', 'Payment failed twice and now the invoice page shows a blank screen',
	    'It fails at https://shop.example.com/checkout/payment/confirm?order=2026112700042&session=' +
	    '9f86d081884c7d659a2feaa0c55ad015 with transaction ' +
	    'a591a6d40bf420404a011733cfb7b190d62c65bf0bcda32b57b277d9ad9f146e and `some inline code`.');
	await page.goto(url);
	await logIn(page, 'alice', USERS.alice.password);
	await checkFit('chat');
	await page.goto('/support/');
	await checkFit('my-tickets');
	await page.goto('/support/tickets/new/');
	await checkFit('new-ticket');
	assert.deepEqual(tooWide, [], 'pages wider than a 375px phone screen');
});

test('no console errors and no CSP violations on any page', () => {
	assert.ok(pagesLoaded() >= 10, `pages were visited (${pagesLoaded()})`);
	const all = problems.map((p) => `[${p.test}] ${p.url}: ${p.text}`).join('\n');
	assert.equal(all, '', 'problems seen:\n' + all);
});
