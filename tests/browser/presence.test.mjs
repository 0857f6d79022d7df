// presence.test.mjs - collision detection in a real browser (issue 15
// part 7): two agents on one ticket, each in a browser context of their
// own (carol, an agent, and dave, an admin: both staff).
//
//  - B sees A viewing, and A sees B; A types in the reply box and B sees
//    "typing a reply…"; A empties the box and B sees A viewing again; A
//    leaves the page and B sees nobody;
//  - a held reply: B has the page open with a draft, A replies, B sends:
//    the server holds it (409 stale_thread), B's page shows A's message,
//    keeps the draft and asks to send anyway; B's second send succeeds
//    and the thread holds both replies, A's first.
//
// Environment (set by run.py): SUPPORT_URL, SUPPORT_USERS, SHOT_DIR.  The
// customer and the ticket are this file's own (registered through the
// API); the standard agents only log in.

import assert from 'node:assert/strict';
import {
	BASE, USERS, api, basicAuth, expectStatus, logIn, newContext, shooter,
	step, waitUntil,
} from './lib.mjs';

const LIVE_TIMEOUT = 15000;     // what another page does shows within this

const shot = shooter('presence-');

async function presenceText(page) {
	return (await page.locator('#presence').innerText()).trim();
}

async function waitPresence(page, want, what) {
	let last = '';
	await waitUntil(async () => {
		last = await presenceText(page);
		return want instanceof RegExp ? want.test(last) : last === want;
	}, LIVE_TIMEOUT, `${what}: want ${want}, shown "${last}"`);
}

function messageWith(page, text) {
	return page.locator('#thread li', { hasText: text });
}

// This file's customer (registered through the API) and their ticket.
const customer = {
	username: 'pres' + Date.now().toString(36),
	password: 'pres-Secret-pass-1',
};
let ticketPath = null, ticketUuid = null;
const pages = {};               // A (carol) and B (dave) on the ticket

function asCustomer(method, apiPath, body) {
	return api(basicAuth(customer.username, customer.password), method,
	    '/api/support' + apiPath, body);
}

step('two agents on one ticket: each sees the other viewing, then typing, then gone', async () => {
	let r = await fetch(BASE + '/api/support/users/', {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({ username: customer.username,
		    email: customer.username + '@example.com', password: customer.password }),
	});
	assert.equal(r.status, 201, 'the customer registers through the API');
	r = await asCustomer('POST', '/tickets/', { subject: 'Two agents',
	    initial_message: 'Who is looking at this?' });
	assert.equal(r.status, 201, 'the customer opens a ticket');
	ticketUuid = r.json.uuid;
	ticketPath = `/support/tickets/${ticketUuid}/`;

	for (const [who, name] of [['A', 'carol'], ['B', 'dave']]) {
		const page = await (await newContext()).newPage();
		await logIn(page, name, USERS[name].password);
		await page.goto(ticketPath);
		pages[who] = page;
	}
	const { A, B } = pages;
	assert.equal(await presenceText(A), '', 'nothing shown before anyone is seen');
	await waitPresence(B, 'carol is viewing', 'B sees A viewing');
	await waitPresence(A, 'dave is viewing', 'A sees B viewing');
	await shot(B, 'b-sees-a-viewing');

	// A types: B sees it; A empties the box: B sees A viewing again.
	const boxA = A.getByRole('textbox', { name: /reply/i });
	await boxA.pressSequentially('Let me check the ', { delay: 20 });
	await waitPresence(B, 'carol is typing a reply\u2026', 'B sees A typing');
	await shot(B, 'b-sees-a-typing');
	assert.equal(await presenceText(A), 'dave is viewing', 'A does not see themself');
	await boxA.fill('');
	await waitPresence(B, 'carol is viewing', 'A emptied the box: B sees A viewing');

	// A leaves the page (pagehide says so): B sees nobody.
	await A.goto('/support/');
	await waitPresence(B, '', 'A left: B sees nobody');
	await A.goto(ticketPath);
	await waitPresence(B, 'carol is viewing', 'A is back: B sees A viewing');
});

step('a held reply: B sends after A replied; B sees A\'s reply, then sends anyway', async () => {
	const { A, B } = pages;
	assert.ok(A && B, 'both agents on the ticket from the test before');
	const draft = 'B says: restart the router ' + Date.now();
	const first = 'A says: it is a known outage ' + Date.now();

	// B has the page open and writes a draft.  B's page is not to see
	// A's reply before sending: its polls of new messages answer 304
	// meanwhile (as if sent just before the next poll).
	await B.route(/\/messages\/\?after=/, (route) => route.fulfill({ status: 304 }));
	const boxB = B.getByRole('textbox', { name: /reply/i });
	await boxB.fill(draft);

	// A replies through their page.
	const boxA = A.getByRole('textbox', { name: /reply/i });
	await boxA.fill(first);
	await A.getByRole('button', { name: /^send reply/i }).click();
	await messageWith(A, first).waitFor({ timeout: LIVE_TIMEOUT });
	assert.equal(await boxA.inputValue(), '', 'A\'s box is emptied once sent');
	assert.equal(await messageWith(B, first).count(), 0, 'B has not seen A\'s reply yet');

	// B sends: held, A's reply shown, the draft kept, "Send anyway".
	expectStatus(B, `/api/support/tickets/${ticketUuid}/messages/`, 409);
	await B.getByRole('button', { name: /^send reply/i }).click();
	await messageWith(B, first).waitFor({ timeout: LIVE_TIMEOUT });
	await B.getByRole('button', { name: /send anyway/i }).waitFor({ timeout: LIVE_TIMEOUT });
	assert.equal(await boxB.inputValue(), draft, 'B\'s draft is kept');
	assert.equal(await messageWith(B, draft).count(), 0, 'the held reply is not on the page');
	assert.match(await B.locator('#reply-status').innerText(), /new messages arrived/i,
	    'B is told why');
	await shot(B, 'b-reply-held');
	let thread = await asCustomer('GET', `/tickets/${ticketUuid}/messages/`);
	assert.deepEqual(thread.json.map((m) => m.content),
	    ['Who is looking at this?', first], 'the held reply was not written');

	// B sends again: it goes, after A's.
	await B.getByRole('button', { name: /send anyway/i }).click();
	await messageWith(B, draft).waitFor({ timeout: LIVE_TIMEOUT });
	assert.equal(await boxB.inputValue(), '', 'B\'s box is emptied once sent');
	await B.getByRole('button', { name: /^send reply$/i }).waitFor({ timeout: LIVE_TIMEOUT });
	await B.unroute(/\/messages\/\?after=/);
	await messageWith(A, draft).waitFor({ timeout: LIVE_TIMEOUT });
	await shot(A, 'a-sees-b-reply');
	thread = await asCustomer('GET', `/tickets/${ticketUuid}/messages/`);
	assert.deepEqual(thread.json.map((m) => m.content),
	    ['Who is looking at this?', first, draft], 'the thread: A\'s reply, then B\'s, once');
});
