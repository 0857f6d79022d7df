// server: auto_assign = round_robin
// server: max_tickets_per_user = 0
// users: erin=agent frank=agent
//
// assign.test.mjs - round-robin assignment seen in a real browser, on a desk
// of its own (run.py reads the two lines above): auto_assign = round_robin
// and three available agents (carol, erin and frank; the admins, dave and
// the one run.sh makes, are marked away through the API first).
// A customer opens tickets through the new-ticket page and each ticket's
// page names who has it: three tickets go to three different people, the
// next three to the same people in the same order.  Then erin marks
// herself away on her password page (no JavaScript needed) and is skipped
// until she comes back.
//
// Environment (set by run.py): SUPPORT_URL, SUPPORT_USERS (name ->
// {password, token, role}), SHOT_DIR.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { SHOTS, STEP_TIMEOUT, USERS, api, logIn, newContext } from './lib.mjs';

const errors = [];              // console errors and uncaught exceptions

// A signed-in page of its own (its own cookies) for user name.
async function signedIn(name, opts = {}) {
	const ctx = await newContext(opts, { onPage: null });
	const page = await ctx.newPage();
	page.on('console', (m) => {
		if (m.type() === 'error')
			errors.push(`${name}: ${m.text()}`);
	});
	page.on('pageerror', (e) => errors.push(`${name}: uncaught ${e.message}`));
	await logIn(page, name, USERS[name].password);
	return page;
}

// Open a ticket through the new-ticket page; the name its page gives as
// the assignee ('' when nobody has it).
async function openTicket(page, subject) {
	await page.goto('/support/tickets/new/');
	await page.locator('#subject').fill(subject);
	await page.locator('#initial_message').fill('Opened by the round-robin test.');
	await Promise.all([
		page.waitForURL(/\/support\/tickets\/[0-9a-f-]{36}\/$/),
		page.locator('#new-ticket-submit').click(),
	]);
	const who = page.locator('#ticket-assignee');
	return (await who.count()) ? (await who.innerText()).trim() : '';
}

async function setAway(page, away) {
	await page.goto('/support/password/');
	const state = (await page.locator('#away-state strong').innerText()).trim();
	if ((state === 'away') !== away)
		await Promise.all([
			page.waitForURL(/\/support\/password\/$/),
			page.locator('#away-toggle').click(),
		]);
	assert.equal((await page.locator('#away-state strong').innerText()).trim(),
	    away ? 'away' : 'available', 'the password page shows the new state');
}

// Mark the user name away (or back) through the API, as the admin dave.
async function apiAway(name, away) {
	const list = await api('dave', 'GET', `/api/support/users/?q=${name}`);
	assert.equal(list.status, 200, 'the users list');
	const user = list.json.results.find((u) => u.username === name);
	assert.ok(user, `${name} is a user`);
	const r = await api('dave', 'PATCH', `/api/support/users/${user.id}/`, { away });
	assert.equal(r.status, 200, `PATCH ${name} away ${away}`);
}

let customer = null;

test('six tickets go round three people, two each, in the same order', { timeout: STEP_TIMEOUT }, async () => {
	await apiAway('admin', true);
	await apiAway('dave', true);
	customer = await signedIn('alice');
	const got = [];
	for (let i = 1; i <= 6; i++)
		got.push(await openTicket(customer, `Round robin ${i}`));
	await customer.screenshot({ path: path.join(SHOTS, 'assign-round-robin.png'), fullPage: true });
	assert.equal(new Set(got.slice(0, 3)).size, 3, `three different people: ${got}`);
	for (const who of got)
		assert.ok(who !== '', `every ticket is assigned: ${got}`);
	assert.deepEqual(got.slice(3), got.slice(0, 3), `the turn comes round again: ${got}`);
});

test('an agent who marks herself away on the password page is skipped until back', { timeout: STEP_TIMEOUT }, async () => {
	const erin = await signedIn('erin', { javaScriptEnabled: false });
	await setAway(erin, true);
	const got = [];
	for (let i = 1; i <= 4; i++)
		got.push(await openTicket(customer, `While erin is away ${i}`));
	assert.ok(got.every((who) => who !== '' && !/erin/i.test(who)), `erin gets none: ${got}`);
	assert.equal(new Set(got).size, 2, `the two others take turns: ${got}`);
	assert.deepEqual(got.slice(2), got.slice(0, 2), `in turn: ${got}`);
	await setAway(erin, false);
	const next = [];
	for (let i = 1; i <= 3; i++)
		next.push(await openTicket(customer, `Erin is back ${i}`));
	assert.ok(next.some((who) => /erin/i.test(who)), `erin is in the turn again: ${next}`);
	assert.equal(new Set(next).size, 3, `three people again: ${next}`);
});

test('no console errors on the pages', () => {
	assert.deepEqual(errors, []);
});
