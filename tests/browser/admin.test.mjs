// admin.test.mjs - the admin area (issue 15 part 9) in a real browser:
// headless Debian Chromium driven by playwright-core, against the desk
// run.py started (SUPPORT_URL, SUPPORT_USERS: dave is the admin).
//
//  - an admin finds users by name, role and status from the Admin link;
//  - an admin creates an agent from the form, with JavaScript off (the
//    forms need none), and the agent logs in;
//  - an admin disables a customer whose ticket page is open in another
//    browser: that page's poll gets the 401 at once and the page says the
//    session is gone; its next reply is refused; a reload is the log-in
//    page.
//
// Every user made here is this file's own (names with a run-unique tail):
// the standard users are never changed.

import assert from 'node:assert/strict';
import {
	BASE, USERS, api as apiCall, expectStatus, logIn, newContext, postForm,
	shooter, step, waitUntil,
} from './lib.mjs';

const LIVE_TIMEOUT = 15000;     // the poll runs every 3 s on a visible page
const TAIL = Date.now().toString(36);

const shot = shooter('admin-');

// An API call as dave (his token): to make this file's own users.
function api(method, p, body) {
	return apiCall('dave', method, p, body);
}

async function adminPage() {
	const ctx = await newContext();
	const page = await ctx.newPage();
	await logIn(page, 'dave', USERS.dave.password);
	return page;
}

// ------------------------------------------------------------------------

step('an admin finds users by name, role and status from the Admin link', async () => {
	const made = [];
	for (const role of ['user', 'agent']) {
		const name = `find${role}${TAIL}`;
		const r = await api('POST', '/api/support/users/', { username: name,
		    email: name + '@example.org', password: 'Find-pw-' + TAIL, role });
		assert.equal(r.status, 201, 'made ' + name);
		made.push(name);
	}
	const page = await adminPage();
	await Promise.all([
		page.waitForURL(/\/support\/admin\/users\/$/),
		page.getByRole('link', { name: 'Admin' }).click(),
	]);
	await page.getByLabel(/name, username or e-mail/i).fill('find');
	await page.getByLabel(/^role$/i).first().selectOption('agent');
	await Promise.all([
		page.waitForURL(/q=find/),
		page.getByRole('button', { name: 'Search' }).click(),
	]);
	await shot(page, 'search');
	const names = await page.locator('#admin-users td.admin-username').allInnerTexts();
	assert.ok(names.includes(made[1]), `the agent is found: ${names}`);
	assert.ok(!names.includes(made[0]), `the customer is not (role filter): ${names}`);
	assert.equal(await page.getByLabel(/^role$/i).first().inputValue(), 'agent',
	    'the filter is kept in the form');
	await page.getByLabel(/^role$/i).first().selectOption('');
	await page.getByLabel(/^status$/i).selectOption('false');
	await Promise.all([
		page.waitForURL(/is_active=false/),
		page.getByRole('button', { name: 'Search' }).click(),
	]);
	assert.equal(await page.locator('#admin-no-users').count(), 1,
	    'nobody disabled matches "find"');
});

step('an admin creates an agent from the form, with JavaScript off; the agent logs in', async () => {
	const ctx = await newContext({ javaScriptEnabled: false });
	const page = await ctx.newPage();
	await logIn(page, 'dave', USERS.dave.password);
	await page.goto('/support/admin/users/');
	const name = 'formagent' + TAIL;
	const form = page.locator('#admin-create');
	await form.getByLabel(/^username/i).fill(name);
	await form.getByLabel(/^name/i).fill('Form Agent');
	await form.getByLabel(/e-?mail/i).fill(name + '@example.org');
	await form.getByLabel(/^role/i).selectOption('agent');
	await form.getByLabel(/^password/i).fill('short');
	expectStatus(page, '/support/admin/users/', 400);
	let res = await postForm(page, page.getByRole('button', { name: 'Create account' }));
	assert.equal(res.status(), 400, 'a short password: the form again');
	assert.match(await page.locator('#password-error').innerText(), /at least 8/);
	assert.equal(await form.getByLabel(/^username/i).inputValue(), name, 'what was typed is kept');
	assert.equal(await form.getByLabel(/^role/i).inputValue(), 'agent', 'the role too');
	await form.getByLabel(/^password/i).fill('Formagent-pw-' + TAIL);
	res = await postForm(page, page.getByRole('button', { name: 'Create account' }));
	assert.equal(res.status(), 303, 'created');
	assert.match(page.url(), /\/support\/admin\/users\/\d+\/\?done=created$/);
	await shot(page, 'created');
	assert.match(await page.locator('#admin-notice').innerText(), /created/);
	assert.equal(await page.locator('#admin-user-role').innerText(), 'Agent');

	const agent = await (await newContext()).newPage();
	await logIn(agent, name, 'Formagent-pw-' + TAIL);
	assert.match(await agent.locator('#signed-in-as').innerText(), /support team/);
	assert.equal(await agent.locator('#nav-admin').count(), 0, 'no Admin link for an agent');
	expectStatus(agent, '/support/admin/users/', 403);
	const r = await agent.goto('/support/admin/users/');
	assert.equal(r.status(), 403, 'the admin area is not an agent\'s');
	assert.equal(await agent.locator('#error-message').getAttribute('data-status'), '403');
});

step('an admin disables a customer: the customer\'s open ticket page stops working and says so', async () => {
	const name = 'gone' + TAIL, pw = 'Gone-pw-' + TAIL;
	const made = await api('POST', '/api/support/users/', { username: name,
	    email: name + '@example.org', password: pw });
	assert.equal(made.status, 201, 'the customer made');

	const cust = await (await newContext()).newPage();
	await logIn(cust, name, pw);
	await cust.goto('/support/tickets/new/');
	await cust.getByLabel(/subject/i).fill('My printer is on fire');
	await cust.getByLabel(/how can we help/i).fill('Smoke everywhere.');
	await Promise.all([
		cust.waitForURL(/\/support\/tickets\/[0-9a-f-]{36}\/$/),
		cust.getByRole('button', { name: /open|send|create|submit/i }).click(),
	]);
	const ticketPath = new URL(cust.url()).pathname;
	const messagesUrl = new URL(ticketPath.replace('/support/', '/api/support/') + 'messages/', BASE).href;
	expectStatus(cust, messagesUrl, 401);
	const polls = [];
	cust.on('response', (r) => {
		if (r.url().startsWith(messagesUrl))
			polls.push(r.request().method() + ' ' + r.status());
	});
	await cust.waitForResponse((r) => r.url().startsWith(messagesUrl) && r.status() < 400,
	    { timeout: LIVE_TIMEOUT });
	assert.equal(await cust.locator('#signed-out').count(), 0, 'signed in before');

	const admin = await adminPage();
	await admin.goto('/support/admin/users/?q=' + name);
	await Promise.all([
		admin.waitForURL(/\/support\/admin\/users\/\d+\/$/),
		admin.getByRole('link', { name }).click(),
	]);
	const res = await postForm(admin, admin.getByRole('button', { name: 'Disable account' }));
	assert.equal(res.status(), 303, 'disabled');
	assert.match(await admin.locator('#admin-notice').innerText(), /disabled/);
	assert.match(await admin.locator('#admin-user-status').innerText(), /Disabled/);
	await shot(admin, 'disabled');

	// The customer's page, untouched since: its next poll is refused.
	// (The customer looks at it again: a hidden page polls every 30 s.)
	await cust.bringToFront();
	await waitUntil(async () => await cust.locator('#signed-out').count() > 0,
	    LIVE_TIMEOUT, 'the open page says the session is gone (its polls: ' +
	    polls.join(', ') + ')');
	const alert = cust.locator('#signed-out');
	assert.equal(await alert.getAttribute('role'), 'alert');
	assert.match(await alert.innerText(), /no longer signed in/i);
	await shot(cust, 'signed-out');
	// Its next action: a reply is refused, and the draft stays.
	await cust.locator('#content').fill('Hello? Anyone?');
	const [reply] = await Promise.all([
		cust.waitForResponse((r) => r.url().startsWith(messagesUrl) &&
		    r.request().method() === 'POST'),
		cust.locator('#send').click(),
	]);
	assert.equal(reply.status(), 401, 'the reply is refused');
	assert.equal(await cust.locator('#content').inputValue(), 'Hello? Anyone?', 'the draft stays');
	const login = alert.getByRole('link', { name: /log in again/i });
	assert.match(await login.getAttribute('href'), /\/support\/login\/\?next=/);
	await cust.reload();
	assert.match(new URL(cust.url()).pathname, /^\/support\/login\//, 'a reload is the log-in page');
	// And enabled again, the customer logs in anew.
	const back = await postForm(admin, admin.getByRole('button', { name: 'Enable account' }));
	assert.equal(back.status(), 303, 'enabled');
	await logIn(cust, name, pw);
	assert.equal(new URL(cust.url()).pathname.startsWith('/support/'), true);
});
