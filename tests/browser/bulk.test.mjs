// bulk.test.mjs - a bulk change of 20 tickets from the staff's queue, in a
// real browser: the agent narrows the queue to twenty tickets by a search,
// ticks "All on this page", picks a status and a priority and applies; the
// page says twenty tickets changed and the API agrees, for every one of
// them.  Then the same with JavaScript off, ticking boxes one by one, and a
// refused change (nothing ticked) that changes nothing.
//
// Environment (set by run.py): SUPPORT_URL, SUPPORT_USERS (name ->
// {password, token, role}), SHOT_DIR.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
	SHOTS, USERS, api as apiCall, basicAuth, logIn, newContext,
} from './lib.mjs';

const STEP_TIMEOUT = 120000;
const TAG = 'bulktag' + Date.now().toString(36);

const errors = [];
let tickets = [];               // the twenty uuids

function api(auth, method, apiPath, body) {
	return apiCall(auth, method, '/api/support' + apiPath, body);
}

const carol = () => 'Bearer ' + USERS.carol.token;

// A customer of this test's own (the standard ones may hold at most
// max_tickets_per_user open tickets, shared by every test file).
async function customer(prefix) {
	const username = prefix + Date.now().toString(36) + Math.random().toString(36).slice(2, 6);
	const password = `pw-${username}-Secret-1`;
	const r = await api('', 'POST', '/users/', { username, password,
	    email: username + '@example.com' });
	assert.equal(r.status, 201, 'a customer registered');
	return basicAuth(username, password);
}

async function signedIn(name, opts = {}) {
	const ctx = await newContext(opts, { onPage: null, timeout: 15000 });
	const page = await ctx.newPage();
	page.on('console', (m) => {
		// The refused change is a 400 page on purpose.
		if (m.type() === 'error' && !/status of 400/.test(m.text()))
			errors.push(`${name}: ${m.text()}`);
	});
	page.on('pageerror', (e) => errors.push(`${name}: uncaught ${e.message}`));
	await logIn(page, name, USERS[name].password);
	return page;
}

// The tickets' status and priority as the API has them, uuid -> "s/p".
async function states() {
	const out = {};
	for (const u of tickets) {
		const r = await api(carol(), 'GET', `/tickets/${u}/`);
		assert.equal(r.status, 200, `GET ticket ${u}`);
		out[u] = `${r.json.status}/${r.json.priority}`;
	}
	return out;
}

async function apply(page) {
	await Promise.all([
		page.waitForURL(/\/support\/(\?|$)/),
		page.locator('#bulk-submit').click(),
	]);
}

test('setup: two customers open twenty tickets with one word in their subjects', { timeout: STEP_TIMEOUT }, async () => {
	for (let c = 0; c < 2; c++) {
		const auth = await customer('bulk');
		for (let i = 0; i < 10; i++) {
			const r = await api(auth, 'POST', '/tickets/', {
			    subject: `${TAG} printer ${c * 10 + i}`,
			    initial_message: 'Part of a bulk change.' });
			assert.equal(r.status, 201, 'a ticket opened');
			tickets.push(r.json.uuid);
		}
	}
	assert.equal(tickets.length, 20);
});

test('all on the page: twenty tickets change status and priority at once', { timeout: STEP_TIMEOUT }, async () => {
	const page = await signedIn('carol');
	await page.goto(`/support/?q=${TAG}&page_size=20`);
	const boxes = page.locator('input.bulk-pick');
	assert.equal(await boxes.count(), 20, 'the search shows the twenty tickets');
	await page.locator('#bulk-all').check();
	for (let i = 0; i < 20; i++)
		assert.ok(await boxes.nth(i).isChecked(), `box ${i} ticked by "All on this page"`);
	await page.locator('#bulk-status').selectOption('waiting_for_user');
	await page.locator('#bulk-priority').selectOption('high');
	await apply(page);
	await page.screenshot({ path: path.join(SHOTS, 'bulk-20-applied.png'), fullPage: true });
	assert.match(await page.locator('#bulk-notice').innerText(), /20 tickets changed/);
	const got = await states();
	for (const u of tickets)
		assert.equal(got[u], 'waiting_for_user/high', `ticket ${u}`);
});

test('JavaScript off: boxes ticked one by one, and nothing ticked is refused', { timeout: STEP_TIMEOUT }, async () => {
	const page = await signedIn('carol', { javaScriptEnabled: false });
	await page.goto(`/support/?q=${TAG}&page_size=20`);
	const boxes = page.locator('input.bulk-pick');
	assert.equal(await boxes.count(), 20);
	// Nothing ticked: an error page, and no ticket changed.
	await page.locator('#bulk-priority').selectOption('urgent');
	const [resp] = await Promise.all([
		page.waitForNavigation(),
		page.locator('#bulk-submit').click(),
	]);
	assert.equal(resp.status(), 400, 'no ticket chosen: 400');
	assert.match(await page.locator('main').innerText(), /uuids/i, 'the page names the field');
	let got = await states();
	for (const u of tickets)
		assert.equal(got[u], 'waiting_for_user/high', `unchanged ${u}`);
	// Five ticked by hand.
	await page.goto(`/support/?q=${TAG}&page_size=20`);
	const picked = [];
	for (let i = 0; i < 5; i++) {
		await boxes.nth(i).check();
		picked.push(await boxes.nth(i).getAttribute('value'));
	}
	await page.locator('#bulk-status').selectOption('resolved');
	await apply(page);
	assert.match(await page.locator('#bulk-notice').innerText(), /5 tickets changed/);
	got = await states();
	for (const u of tickets)
		assert.equal(got[u], picked.includes(u) ? 'resolved/high' : 'waiting_for_user/high',
		    `ticket ${u}`);
});

test('no console errors on these pages', () => {
	assert.deepEqual(errors, []);
});
