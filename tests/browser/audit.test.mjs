// audit.test.mjs - message edit and delete by staff, and the audit log
// (issue 17 parts 7 and 8), in a real browser: headless Debian Chromium
// driven by playwright-core, against the desk run.py started
// (SUPPORT_URL, SUPPORT_USERS: carol the agent, dave the admin).
//
//  - an agent edits a message from the ticket page and the customer's
//    open page shows the new text by itself (its poll); a deleted message
//    leaves the customer's open page;
//  - with JavaScript off the agent's forms work (edit, an empty edit
//    refused on the page, delete), and an admin reads the changes in the
//    ticket's history and on the audit page, filtered by the ticket.
//
// The customer and the tickets are this file's own (a run-unique name):
// the standard users are never changed.

import assert from 'node:assert/strict';
import {
	BASE, USERS, api, expectStatus, logIn, newContext as libNewContext,
	postForm, shooter, step, waitUntil,
} from './lib.mjs';

const LIVE_TIMEOUT = 15000;     // the poll runs every 3 s on a visible page
const TAIL = Date.now().toString(36) + Math.random().toString(36).slice(2, 5);

// A context of its own, watched (lib.mjs), in a taller window.  The 4xx
// this file asks for on purpose are marked with expectStatus().
function newContext(opts = {}) {
	return libNewContext({ viewport: { width: 1024, height: 900 }, ...opts });
}

const shot = shooter('audit-');

const carol = () => 'Bearer ' + USERS.carol.token;

// This file's customer (registered once) and a ticket of theirs with a
// staff reply and a second message of the customer's.
let customer = null;
async function fixture(subject) {
	if (!customer) {
		const username = 'audit' + TAIL;
		const password = `pw-${username}-Secret-1`;
		const r = await fetch(BASE + '/api/support/users/', {
			method: 'POST', headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify({ username, password, email: username + '@example.com' }),
		});
		assert.equal(r.status, 201, 'the customer registered');
		customer = { username, password,
		    auth: 'Basic ' + Buffer.from(`${username}:${password}`).toString('base64') };
	}
	const t = await api(customer.auth, 'POST', '/api/support/tickets/',
	    { subject, initial_message: 'My printer is on fire.' });
	assert.equal(t.status, 201, 'the ticket opened');
	const base = `/api/support/tickets/${t.json.uuid}/messages/`;
	const reply = await api(carol(), 'POST', base, { content: 'Have you tried turning it of?' });
	assert.equal(reply.status, 201, 'carol replied');
	const extra = await api(carol(), 'POST', base, { content: 'Sent by mistake.' });
	assert.equal(extra.status, 201, 'and once more');
	return { uuid: t.json.uuid, number: t.json.number, reply: reply.json.uuid,
	    extra: extra.json.uuid, path: `/support/tickets/${t.json.uuid}/` };
}

// ------------------------------------------------------------------------

step('an agent edits a message: the customer\'s open page shows the new text; a delete removes it', async () => {
	const f = await fixture('Edit while open ' + TAIL);
	const cust = await (await newContext()).newPage();
	await logIn(cust, customer.username, customer.password);
	await cust.goto(f.path);
	assert.match(await cust.locator(`#m-${f.reply} .body`).innerText(), /turning it of\?/);

	const agent = await (await newContext()).newPage();
	await logIn(agent, 'carol', USERS.carol.password);
	await agent.goto(f.path);
	await agent.locator(`#tools-${f.reply} summary`).click();
	await agent.locator(`#edit-content-${f.reply}`).fill('Have you tried turning it **off**?');
	await shot(agent, 'editing');
	const res = await postForm(agent, agent.locator(`#edit-save-${f.reply}`));
	assert.equal(res.status(), 303, 'saved');
	assert.match(await agent.locator(`#m-${f.reply} .body`).innerText(), /turning it off\?/);
	assert.equal(await agent.locator(`#edited-${f.reply}`).count(), 1, 'marked edited');

	await waitUntil(async () => /turning it off\?/.test(
	    await cust.locator(`#m-${f.reply} .body`).innerText()), LIVE_TIMEOUT,
	    'the customer\'s open page shows the new text');
	assert.equal(await cust.locator(`#m-${f.reply} .body strong`).innerText(), 'off',
	    'rendered as Markdown');
	await waitUntil(async () => (await cust.locator(`#edited-${f.reply}`).count()) === 1,
	    LIVE_TIMEOUT, 'and marked edited');
	await shot(cust, 'customer-sees-edit');

	// The customer's poll asks for what came after the newest message:
	// that one is deleted now, and the page must not stall.
	expectStatus(cust, `/api/support/tickets/${f.uuid}/messages/`, 404);
	expectStatus(agent, `/api/support/tickets/${f.uuid}/messages/`, 404);
	const del = await api(carol(), 'DELETE', `/api/support/tickets/${f.uuid}/messages/${f.extra}/`);
	assert.equal(del.status, 204, 'deleted');
	await waitUntil(async () => (await cust.locator(`#m-${f.extra}`).count()) === 0,
	    LIVE_TIMEOUT, 'the deleted message leaves the customer\'s page');
	await waitUntil(async () => (await agent.locator(`#m-${f.extra}`).count()) === 0,
	    LIVE_TIMEOUT, 'and the agent\'s');
	const after = await api(customer.auth, 'POST', `/api/support/tickets/${f.uuid}/messages/`,
	    { content: 'Thanks, it works.' });
	assert.equal(after.status, 201, 'the customer writes again');
	await waitUntil(async () => (await cust.locator(`#m-${after.json.uuid}`).count()) === 1,
	    LIVE_TIMEOUT, 'and the poll goes on');
});

step('with JavaScript off: the agent\'s forms; an admin reads the history and the audit page', async () => {
	const f = await fixture('No script ' + TAIL);
	const ctx = await newContext({ javaScriptEnabled: false });
	const agent = await ctx.newPage();
	await logIn(agent, 'carol', USERS.carol.password);
	await agent.goto(f.path);
	await agent.locator(`#tools-${f.reply} summary`).click();
	const box = agent.locator(`#edit-content-${f.reply}`);
	assert.equal(await box.inputValue(), 'Have you tried turning it of?', 'the text to edit');
	await box.fill('');
	await agent.evaluate((id) => document.getElementById(id).removeAttribute('required'),
	    `edit-content-${f.reply}`);
	expectStatus(agent, `/support/tickets/${f.uuid}/messages/${f.reply}/edit/`, 400);
	let res = await postForm(agent, agent.locator(`#edit-save-${f.reply}`));
	assert.equal(res.status(), 400, 'an empty edit is refused');
	assert.match(await agent.locator('#message-edit-error').innerText(), /not edited/);
	await agent.goto(f.path);
	await agent.locator(`#tools-${f.reply} summary`).click();
	await agent.locator(`#edit-content-${f.reply}`).fill('Try turning it off and on.');
	res = await postForm(agent, agent.locator(`#edit-save-${f.reply}`));
	assert.equal(res.status(), 303, 'edited');
	assert.match(await agent.locator(`#m-${f.reply} .body`).innerText(), /off and on/);
	await agent.locator(`#tools-${f.extra} summary`).click();
	res = await postForm(agent, agent.locator(`#delete-submit-${f.extra}`));
	assert.equal(res.status(), 303, 'deleted');
	assert.equal(await agent.locator(`#m-${f.extra}`).count(), 0, 'gone from the page');
	assert.equal(await agent.locator('#ticket-history').count(), 0, 'no history for an agent');
	await shot(agent, 'nojs-after');

	const admin = await (await newContext({ javaScriptEnabled: false })).newPage();
	await logIn(admin, 'dave', USERS.dave.password);
	await admin.goto(f.path);
	const types = await admin.locator('#history-log tr.audit-row').evaluateAll(
	    (rows) => rows.map((r) => r.dataset.type));
	assert.deepEqual(types, ['message.deleted', 'message.edited'], 'the ticket\'s history');
	assert.match(await admin.locator('#history-log').innerText(), /turning it of\?/,
	    'the text before the edit');
	await shot(admin, 'history');
	await Promise.all([admin.waitForURL(/\/support\/admin\/audit\/\?ticket=/),
	    admin.locator('#history-all').click()]);
	assert.equal(await admin.locator('#audit-log tr.audit-row').count(), 2, 'the audit page, filtered');
	await admin.locator('#audit-actor').fill('carol');
	await admin.locator('#audit-ticket').fill(String(f.number));
	await Promise.all([admin.waitForURL(/actor=carol/), admin.locator('#audit-filter-submit').click()]);
	assert.equal(await admin.locator('#audit-log tr.audit-row').count(), 2, 'by carol, by number');
	assert.match(await admin.locator('#audit-log td.audit-addr').first().innerText(), /127\.0\.0\.1/,
	    'from where');
	await shot(admin, 'audit-page');
});
