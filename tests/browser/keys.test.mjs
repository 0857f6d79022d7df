// keys.test.mjs - the staff's keyboard shortcuts (htdocs/support.js,
// docs/pages.md "Keyboard shortcuts") in headless Chromium: j / k / x / o /
// Enter on the queue, r / n / a / e on a ticket, ? and its dialog, g q,
// and never while typing, with a modifier, for a customer or without
// JavaScript.
//
// Environment (set by run.py): SUPPORT_URL, SUPPORT_USERS (JSON: name ->
// {password, token, role}; carol an agent), SHOT_DIR.  The tickets it
// works on are its own: two customers registered here open them.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
	SHOTS, USERS, api as apiCall, logIn, newContext, register,
} from './lib.mjs';

const ROWS = '#tickets > li, #tickets [data-uuid]';
const STEP_TIMEOUT = 60000;

const errors = [];              // uncaught page errors
const made = [];                // paths of the tickets made here
let customer = null;            // one of the customers made here

// A call to the API as who: a standard user's name, or one register() made.
function api(who, method, apiPath, body) {
	return apiCall(who, method, '/api/support' + apiPath, body);
}

// Enough tickets of our own that the queue's first page scrolls in a
// short window.
before(async () => {
	const who = [await register('keysa'), await register('keysb')];
	customer = who[0];
	for (let i = 0; i < 14; i++) {
		const r = await api(who[i % 2], 'POST', '/tickets/', { subject: `Keys ${i} ${Date.now()}`,
		    initial_message: 'For the keyboard tests.' });
		assert.equal(r.status, 201, 'ticket made through the API');
		made.push(`/support/tickets/${r.json.uuid}/`);
	}
});

// A page of who (a standard user's name, one register() made, null:
// nobody), logged in through the log-in form.
async function pageFor(who, opts = {}) {
	const ctx = await newContext({ viewport: { width: 1024, height: 500 }, ...opts },
	    { onPage: null });
	const page = await ctx.newPage();
	page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
	if (who) {
		const u = typeof who === 'string' ?
		    { username: who, password: USERS[who].password } : who;
		await logIn(page, u.username, u.password);
	}
	return page;
}

async function shot(page, name) {
	await page.screenshot({ path: path.join(SHOTS, 'keys-' + name + '.png') });
}

// The index of the current row (-1: none), whether the focus is in it,
// whether it shows a ring and lies inside the window.
function current(page) {
	return page.evaluate((sel) => {
		const rows = [...document.querySelectorAll(sel)];
		const i = rows.findIndex((r) => r.classList.contains('kbd-current'));
		if (i < 0)
			return { i, n: rows.length };
		const r = rows[i], box = r.getBoundingClientRect(), cs = getComputedStyle(r);
		return {
			i, n: rows.length,
			focused: r.contains(document.activeElement) &&
			    document.activeElement.matches('a.subject'),
			ring: cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2,
			// within a pixel: a row's box may end a fraction past it
			inView: box.top >= -1 && box.bottom <= window.innerHeight + 1,
			ones: rows.filter((x) => x.classList.contains('kbd-current')).length,
		};
	}, ROWS);
}

function rowBox(page, i) {
	return page.locator(ROWS).nth(i).locator('input.bulk-pick');
}

// Back to the page before (a link the test followed), the page loaded.
async function back(page) {
	await page.goBack();
	await page.waitForLoadState('load');
}

test('queue: j / k move a visible, focused current row, scrolled into view', { timeout: STEP_TIMEOUT }, async () => {
	const page = await pageFor('carol');
	await page.goto('/support/');
	let c = await current(page);
	assert.ok(c.n >= 14, `the queue shows our tickets (${c.n} rows)`);
	assert.equal(c.i, -1, 'no row is current before a key');
	await page.keyboard.press('k');
	assert.equal((await current(page)).i, 0, 'k with no current row takes the first');
	await page.keyboard.press('j');
	c = await current(page);
	assert.equal(c.i, 1, 'j moves to the next row');
	assert.ok(c.focused, 'the current row\'s subject link has the focus');
	assert.ok(c.ring, 'the current row shows a ring');
	assert.equal(c.ones, 1, 'one row is current');
	await page.keyboard.press('k');
	assert.equal((await current(page)).i, 0, 'k moves back');
	await page.keyboard.press('k');
	assert.equal((await current(page)).i, 0, 'k on the first row stays there');
	for (let n = 0; n < 12; n++)
		await page.keyboard.press('j');
	c = await current(page);
	assert.equal(c.i, 12, 'twelve times j: the thirteenth row');
	assert.ok(c.inView, 'the current row was scrolled into view');
	assert.ok(await page.evaluate(() => window.scrollY > 0), 'the page scrolled');
	await shot(page, 'queue-current-row');
	for (let n = 0; n < c.n + 2; n++)
		await page.keyboard.press('j');
	assert.equal((await current(page)).i, c.n - 1, 'j on the last row stays there');
});

test('queue: x ticks and unticks the current row\'s box, o and Enter open it', { timeout: STEP_TIMEOUT }, async () => {
	const page = await pageFor('carol');
	await page.goto('/support/');
	await page.keyboard.press('j');
	await page.keyboard.press('j');
	assert.equal(await rowBox(page, 1).isChecked(), false, 'the box starts unticked');
	await page.keyboard.press('x');
	assert.equal(await rowBox(page, 1).isChecked(), true, 'x ticks the current row\'s box');
	assert.equal(await rowBox(page, 0).isChecked(), false, 'and no other');
	await page.keyboard.press('x');
	assert.equal(await rowBox(page, 1).isChecked(), false, 'x again unticks it');
	// The box was clicked by the mouse: the keys go on from its row.
	await rowBox(page, 3).click();
	await page.keyboard.press('j');
	assert.equal((await current(page)).i, 4, 'j after a click on a box goes on from the box\'s row');
	await page.keyboard.press('x');
	assert.equal(await rowBox(page, 4).isChecked(), true, 'x in the box\'s focus ticks the current row');

	const href = await page.locator(ROWS).nth(4).locator('a.subject').getAttribute('href');
	await Promise.all([page.waitForURL((u) => u.pathname === href), page.keyboard.press('o')]);
	assert.equal(new URL(page.url()).pathname, href, 'o opens the current row\'s ticket');

	await page.goto('/support/');
	await page.keyboard.press('j');
	const first = await page.locator(ROWS).nth(0).locator('a.subject').getAttribute('href');
	await Promise.all([page.waitForURL((u) => u.pathname === first), page.keyboard.press('Enter')]);
	assert.equal(new URL(page.url()).pathname, first, 'Enter opens it too');
	// With the focus back on the page itself, Enter still opens the
	// current row.
	await page.goto('/support/');
	await page.keyboard.press('j');
	await page.keyboard.press('j');
	const second = await page.locator(ROWS).nth(1).locator('a.subject').getAttribute('href');
	await page.evaluate(() => document.activeElement.blur());
	await Promise.all([page.waitForURL((u) => u.pathname === second), page.keyboard.press('Enter')]);
	assert.equal(new URL(page.url()).pathname, second, 'Enter with the focus on the page opens the current row');
});

test('queue: no shortcut in the filter\'s select, with Alt or Ctrl, nor for a customer', { timeout: STEP_TIMEOUT }, async () => {
	const page = await pageFor('carol');
	await page.goto('/support/');
	await page.keyboard.press('Alt+j');
	await page.keyboard.press('Control+k');
	assert.equal((await current(page)).i, -1, 'Alt+j and Ctrl+k choose no row');
	await page.locator('#priority-filter').focus();
	await page.keyboard.press('j');
	assert.equal((await current(page)).i, -1, 'j in the filter\'s select chooses no row');
	await page.keyboard.press('Shift+?');
	assert.equal(await page.getByRole('dialog').count(), 0, '? in a select opens nothing');

	const cust = await pageFor(customer);
	await cust.goto('/support/');
	assert.equal(await cust.locator('#keys-help-open').count(), 0, 'a customer has no shortcuts button');
	await cust.keyboard.press('j');
	await cust.keyboard.press('Shift+?');
	assert.equal(await cust.locator('.kbd-current').count(), 0, 'nor j');
	assert.equal(await cust.getByRole('dialog').count(), 0, 'nor ?');
});

test('ticket: r focuses the reply box (note off), n turns the note on; typing there is text', { timeout: STEP_TIMEOUT }, async () => {
	const page = await pageFor('carol');
	const url = made[0];
	await page.goto(url);
	const box = page.locator('#content'), note = page.locator('#is_internal');
	await note.check();
	await page.locator('#ticket-title').click();
	await page.keyboard.press('r');
	assert.ok(await box.evaluate((e) => e === document.activeElement), 'r focuses the reply box');
	assert.equal(await note.isChecked(), false, 'r turns the internal note off');
	assert.equal(await box.inputValue(), '', 'the r itself is not typed into the box');

	await page.locator('#ticket-title').click();
	await page.keyboard.press('n');
	assert.ok(await box.evaluate((e) => e === document.activeElement), 'n focuses the reply box');
	assert.equal(await note.isChecked(), true, 'n turns the internal note on');
	assert.equal(await box.inputValue(), '', 'the n itself is not typed into the box');
	await shot(page, 'ticket-note');

	// In the box every key is text: r does not turn the note off, g q
	// does not leave, ? opens nothing, j goes nowhere.
	await page.keyboard.type('jr gq? xe');
	assert.equal(await box.inputValue(), 'jr gq? xe', 'the keys were typed into the box');
	assert.equal(new URL(page.url()).pathname, url, 'still on the ticket');
	assert.equal(await note.isChecked(), true, 'the note is still on');
	assert.equal(await page.getByRole('dialog').count(), 0, 'no dialog opened');
	const r = await api('carol', 'GET', url.replace('/support', ''));
	assert.notEqual(r.json.status, 'resolved', 'e typed in the box resolved nothing');
});

test('ticket: a assigns to me, e marks resolved, g then q goes to the queue', { timeout: STEP_TIMEOUT }, async () => {
	const page = await pageFor('carol');
	const url = made[1];
	const apiUrl = url.replace('/support', '');
	await page.goto(url);
	// #assign-me is the ticket page's "Assign to me" (another part of
	// the desk): without it, a stand-in records that a clicks it.
	const real = await page.locator('#assign-me').count();
	if (!real)
		await page.evaluate(() => {
			const b = document.createElement('button');
			b.id = 'assign-me';
			b.type = 'button';
			b.textContent = 'Assign to me';
			b.addEventListener('click', () => { b.dataset.clicked = 'yes'; });
			document.querySelector('main').appendChild(b);
		});
	await page.locator('#ticket-title').click();
	await page.keyboard.press('a');
	if (real) {
		const end = Date.now() + 10000;
		let who = null;
		while (Date.now() < end && who !== 'carol') {
			who = ((await api('carol', 'GET', apiUrl)).json.assignee || {}).username;
			await new Promise((res) => setTimeout(res, 200));
		}
		assert.equal(who, 'carol', 'a assigned the ticket to carol');
		await page.waitForLoadState('load');
	} else {
		assert.equal(await page.locator('#assign-me').getAttribute('data-clicked'), 'yes',
		    'a clicks #assign-me');
	}

	await page.goto(url);
	await page.locator('#ticket-title').click();
	await Promise.all([page.waitForURL(/changed=resolved/), page.keyboard.press('e')]);
	assert.equal((await api('carol', 'GET', apiUrl)).json.status, 'resolved', 'e marked it resolved');
	// Resolved: no #resolve any more, e does nothing.
	assert.equal(await page.locator('#resolve').count(), 0, 'no "Mark resolved" on a resolved ticket');
	await page.locator('#ticket-title').click();
	await page.keyboard.press('e');
	assert.match(page.url(), /changed=resolved/, 'e without the button stays');

	await page.keyboard.press('g');
	await Promise.all([page.waitForURL((u) => u.pathname === '/support/'), page.keyboard.press('q')]);
	assert.equal(new URL(page.url()).pathname, '/support/', 'g then q: the queue');
	// q alone does nothing.
	await page.goto(url);
	await page.locator('#ticket-title').click();
	await page.keyboard.press('q');
	await page.waitForTimeout(300);
	assert.equal(new URL(page.url()).pathname, url, 'q without g stays');
});

test('?: a modal dialog lists the shortcuts, Escape closes it and the focus returns', { timeout: STEP_TIMEOUT }, async () => {
	const page = await pageFor('carol');
	await page.goto('/support/');
	await page.keyboard.press('j');
	await page.keyboard.press('j');
	const link = await page.evaluate(() => document.activeElement.getAttribute('href'));
	await page.keyboard.press('Shift+?');
	const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
	await dialog.waitFor();
	assert.equal(await dialog.getAttribute('aria-modal'), 'true', 'the dialog is modal');
	assert.ok(await dialog.evaluate((d) => d.contains(document.activeElement)),
	    'the focus is in the dialog');
	const text = await dialog.innerText();
	const keys = await dialog.locator('kbd').evaluateAll((ks) => ks.map((k) => k.textContent));
	for (const k of ['j', 'k', 'o', 'x', 'r', 'n', 'a', 'e', '?', 'g', 'q'])
		assert.ok(keys.includes(k), `the dialog lists ${k} (${keys.join(' ')})`);
	assert.match(text, /Assign to me/, 'with what each does');
	await shot(page, 'help-dialog');
	// The page behind does not take keys while it is open.
	await page.keyboard.press('j');
	assert.equal((await current(page)).i, 1, 'j does not move the row behind the dialog');
	await page.keyboard.press('Escape');
	await dialog.waitFor({ state: 'hidden' });
	assert.equal(await page.evaluate(() => document.activeElement.getAttribute('href')), link,
	    'the focus is back on the current row\'s link');
	await page.keyboard.press('j');
	assert.equal((await current(page)).i, 2, 'the keys work again once it is closed');

	// The footer's button opens it too; its Close button closes it.
	const button = page.getByRole('button', { name: /keyboard shortcuts/i });
	assert.ok(await button.isVisible(), 'the footer shows "Keyboard shortcuts" with JavaScript on');
	await button.click();
	await dialog.waitFor();
	await dialog.getByRole('button', { name: 'Close' }).click();
	await dialog.waitFor({ state: 'hidden' });
	assert.ok(await button.evaluate((b) => b === document.activeElement),
	    'the focus is back on the footer\'s button');
	// A click on its own padding leaves it open, one outside closes it.
	await button.click();
	await dialog.waitFor();
	const box = await dialog.boundingBox();
	await page.mouse.click(box.x + 4, box.y + box.height / 2);
	assert.ok(await dialog.isVisible(), 'a click inside the dialog leaves it open');
	await page.mouse.click(Math.max(2, box.x - 10), box.y + box.height / 2);
	await dialog.waitFor({ state: 'hidden' });
	await button.focus();
	await page.keyboard.press('Enter');
	await dialog.waitFor();
	await page.keyboard.press('Escape');
	await dialog.waitFor({ state: 'hidden' });
	assert.ok(await button.evaluate((b) => b === document.activeElement),
	    'opened from the keyboard, closed with Escape: the focus is on the button');
});

test('without JavaScript the shortcuts button is not shown', { timeout: STEP_TIMEOUT }, async () => {
	const page = await pageFor('carol', { javaScriptEnabled: false });
	await page.goto('/support/');
	assert.equal(await page.locator('#keys-help-open').count(), 1, 'the button is in the staff page');
	assert.equal(await page.locator('#keys-help-open').isVisible(), false,
	    'but hidden without JavaScript');
	assert.equal(await page.getByRole('contentinfo').count(), 0, 'no empty footer landmark');
});

test('no uncaught errors on the pages of these tests', () => {
	assert.deepEqual(errors, []);
});
