// tpage.test.mjs - the staff's ticket page in a real browser (issue 15
// parts 3 and 5): a canned reply with its placeholders filled in the
// reply box and sent; priority and assignee changed from the page by its
// script, without a reload; and with JavaScript off, the picker posting
// and the page coming back with the reply box filled, then sent.
//
// Environment as desk.test.mjs (run.py sets it).  This file makes its own
// customer (through the register page) and its own tickets and canned
// response; carol (agent) and dave (admin) are only read, never changed.

import assert from 'node:assert/strict';
import path from 'node:path';
import {
	SHOTS, USERS, api as apiCall, basicAuth, currentStep, logIn,
	newContext as libNewContext, step as libStep, waitUntil,
} from './lib.mjs';

const problems = [];

const customer = {
	username: 'tp' + Date.now().toString(36),
	display: 'Tina Page',
	password: 'tina-Secret-pass-1',
};
const state = { ticket: null, canned: null, carolId: 0, daveId: 0 };

// A context of its own in a 1200x900 window: console errors (but a 400,
// the refused forms') and uncaught errors are problems, of the step
// running.
function newContext(opts = {}) {
	return libNewContext({ viewport: { width: 1200, height: 900 }, ...opts }, {
		onPage: (page) => {
			page.on('console', (msg) => {
				if (msg.type() === 'error' && !/status of 400/.test(msg.text()))
					problems.push({ test: currentStep(), text: msg.text() });
			});
			page.on('pageerror', (err) => problems.push({ test: currentStep(),
				text: 'uncaught: ' + err.message }));
		},
	});
}

// One step; the last one looks at the problems of them all.
function step(name, fn) {
	libStep(name, fn, { check: false });
}

// The API as a user, with their token (carol, dave) or password (ours).
function api(method, url, who, body) {
	return apiCall(USERS[who] ? who : basicAuth(who, customer.password),
	    method, url, body || undefined);
}

function expected(t) {
	return `Hello ${customer.display} (${customer.username}@example.com): ` +
	    `about #${t.number} ${t.subject}. Regards, carol`;
}

step('setup: a customer registers and opens tickets; carol has a canned reply', async () => {
	const ctx = await newContext();
	const page = await ctx.newPage();
	await page.goto('/support/register/');
	await page.getByLabel('Username').fill(customer.username);
	await page.getByLabel(/your name/i).fill(customer.display);
	await page.getByLabel('E-mail').fill(customer.username + '@example.com');
	await page.getByLabel(/^password/i).fill(customer.password);
	await Promise.all([page.waitForURL(/\/support\/$/),
		page.locator('#register-submit').click()]);
	for (const subject of ['Browser picker ticket', 'Browser no-JS ticket']) {
		const r = await api('POST', '/api/support/tickets/', customer.username,
		    { subject, initial_message: 'Help me please.' });
		assert.equal(r.status, 201, 'ticket opened: ' + JSON.stringify(r.json));
		if (!state.ticket)
			state.ticket = r.json;
		else
			state.nojs = r.json;
	}
	const c = await api('POST', '/api/support/canned-responses/', 'carol', {
		title: 'Browser greeting ' + customer.username,
		body: 'Hello {{customer.name}} ({{customer.email}}): about ' +
		    '#{{ticket.number}} {{ticket.subject}}. Regards, {{agent.name}}',
	});
	assert.equal(c.status, 201, 'canned reply made');
	state.canned = c.json;
	state.carolId = (await api('GET', '/api/support/session/', 'carol')).json.user.id;
	state.daveId = (await api('GET', '/api/support/session/', 'dave')).json.user.id;
	await ctx.close();
});

step('a canned reply with its placeholders filled goes into the reply box and is sent', async () => {
	const ctx = await newContext();
	const page = await ctx.newPage();
	await logIn(page, 'carol', USERS.carol.password);
	await page.goto(`/support/tickets/${state.ticket.uuid}/`);
	assert.equal(await page.locator('aside#customer-panel h2').innerText(), 'Customer');
	assert.match(await page.locator('#panel-customer-email').innerText(),
	    new RegExp(customer.username + '@example.com'));
	await page.locator('#content').fill('Intro line.\n');
	await page.getByLabel('Canned response').selectOption(String(state.canned.id));
	await page.locator('#canned-insert').click();
	const want = 'Intro line.\n' + expected(state.ticket);
	await waitUntil(async () => (await page.locator('#content').inputValue()) === want,
	    5000, 'the reply box holds the filled-in response');
	assert.equal(new URL(page.url()).pathname, `/support/tickets/${state.ticket.uuid}/`,
	    'no navigation: the script inserted it');
	await page.locator('#send').click();
	await page.locator('#thread li', { hasText: 'Regards, carol' }).waitFor();
	await page.screenshot({ path: path.join(SHOTS, 'tpage-canned-sent.png'), fullPage: true });
	const t = await api('GET', `/api/support/tickets/${state.ticket.uuid}/`, 'carol');
	const last = t.json.messages[t.json.messages.length - 1];
	assert.equal(last.content, want, 'sent as filled in');
	assert.ok(!/\{\{/.test(last.content), 'no placeholder left');
	await ctx.close();
});

step('priority and assignee change from the page, without a reload', async () => {
	const ctx = await newContext();
	const page = await ctx.newPage();
	await logIn(page, 'carol', USERS.carol.password);
	const url = `/support/tickets/${state.ticket.uuid}/`;
	await page.goto(url);
	await page.evaluate(() => { window.__still = 'here'; });
	await page.getByLabel('Priority', { exact: true }).selectOption('urgent');
	await page.locator('#control-priority-submit').click();
	await waitUntil(async () => (await page.locator('#ticket-priority')
	    .getAttribute('data-priority')) === 'urgent', 5000, 'the priority shown');
	assert.match(await page.locator('#control-result').innerText(), /Priority changed to Urgent/);
	await page.getByLabel('Assignee', { exact: true }).selectOption(String(state.daveId));
	await page.locator('#control-assignee-submit').click();
	await page.locator('#ticket-assignee[data-assignee="' + state.daveId + '"]').waitFor();
	assert.equal(await page.locator('#ticket-assignee').innerText(), 'dave');
	await page.locator('#assign-me').click();
	await page.locator('#ticket-assignee[data-assignee="' + state.carolId + '"]').waitFor();
	assert.equal(await page.getByLabel('Assignee', { exact: true }).inputValue(),
	    String(state.carolId), 'the select follows');
	await page.getByLabel('Status', { exact: true }).selectOption('waiting_for_user');
	await page.locator('#control-status-submit').click();
	await waitUntil(async () => (await page.locator('#ticket-status')
	    .getAttribute('data-status')) === 'waiting_for_user', 5000, 'the status shown');
	assert.equal(await page.locator('#ticket-status').innerText(), 'Waiting for the customer');
	assert.equal(await page.evaluate(() => window.__still), 'here', 'the page was not reloaded');
	const t = await api('GET', `/api/support/tickets/${state.ticket.uuid}/`, 'carol');
	assert.equal(t.json.priority, 'urgent');
	assert.equal(t.json.assignee.id, state.carolId);
	assert.equal(t.json.status, 'waiting_for_user');
	await page.screenshot({ path: path.join(SHOTS, 'tpage-controls.png'), fullPage: true });
	await ctx.close();
});

step('JavaScript off: the picker posts, the reply box comes back filled, and is sent', async () => {
	const ctx = await newContext({ javaScriptEnabled: false });
	const page = await ctx.newPage();
	await logIn(page, 'carol', USERS.carol.password);
	const url = `/support/tickets/${state.nojs.uuid}/`;
	await page.goto(url);
	await page.getByLabel('Canned response').selectOption(String(state.canned.id));
	const [resp] = await Promise.all([
		page.waitForNavigation(),
		page.locator('#canned-insert').click(),
	]);
	assert.equal(resp.status(), 200, 'the page came back');
	assert.equal(await page.locator('#content').inputValue(), expected(state.nojs));
	assert.ok(await page.locator('#canned-inserted').isVisible(), 'the notice');
	await Promise.all([page.waitForNavigation(), page.locator('#send').click()]);
	assert.equal(new URL(page.url()).pathname, url, 'back on the ticket');
	await page.locator('#thread li', { hasText: 'Regards, carol' }).waitFor();
	await page.getByLabel('Priority', { exact: true }).selectOption('high');
	await Promise.all([page.waitForNavigation(), page.locator('#control-priority-submit').click()]);
	assert.equal(await page.locator('#priority-changed').innerText(), 'Priority changed to High.');
	assert.equal(await page.locator('#ticket-priority').getAttribute('data-priority'), 'high');
	await Promise.all([page.waitForNavigation(), page.locator('#assign-me').click()]);
	assert.equal(await page.locator('#assignee-changed').innerText(), 'Assigned to carol.');
	await page.screenshot({ path: path.join(SHOTS, 'tpage-nojs.png'), fullPage: true });
	await ctx.close();
});

step('no console errors or uncaught exceptions on these pages', async () => {
	assert.deepEqual(problems, []);
});
