// queue.test.mjs - the staff's queue in a real browser (issue 15 part 1):
// filtering by the form's controls, saving the view shown, its count in
// the sidebar, deleting it, with JavaScript and without.
//
// Environment (set by run.py): SUPPORT_URL, SUPPORT_USERS (alice a
// customer, carol an agent, with their passwords and tokens), SHOT_DIR.
// The tickets are this file's own (their subjects carry a run id), so
// that the other files running on the same server do not disturb it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
	BASE, SHOTS, USERS, api, logIn as libLogIn,
	newContext as libNewContext,
} from './lib.mjs';

const RUN = 'q' + Date.now().toString(36);

const problems = [];

// A context of its own in a 1200x900 window: console errors, uncaught
// errors and CSP reports are problems (but the 400 of an unknown customer).
function newContext(opts = {}) {
	return libNewContext({ viewport: { width: 1200, height: 900 }, ...opts }, {
		onPage: (page) => {
			page.on('console', (msg) => {
				// The queue answers an unknown customer with 400 on
				// purpose: Chromium logs that status for the page.
				if (/status of 400/.test(msg.text()) &&
				    /customer=nobody-/.test(msg.location().url || ''))
					return;
				if (msg.type() === 'error' ||
				    /Content[- ]Security[- ]Policy/i.test(msg.text()))
					problems.push(page.url() + ': ' + msg.text());
			});
			page.on('pageerror', (err) => problems.push(page.url() + ': ' + err.message));
		},
	});
}

function logIn(page, user) {
	return libLogIn(page, user, USERS[user].password);
}

// Click a button that submits a form and wait for the page it leads to.
async function submit(page, button) {
	await Promise.all([page.waitForNavigation(), button.click()]);
}

// The subjects of the table's rows.
async function rows(page) {
	return page.locator('#tickets [data-uuid] a.subject').allTextContents();
}

// The sidebar's link of a view by its name, and its count (null: none).
async function viewCount(page, name) {
	const link = page.locator('#queue-views a', { has: page.locator('.view-name', { hasText: name }) });
	assert.equal(await link.count(), 1, `the view ${name} is in the sidebar once`);
	const c = link.locator('.view-count');
	return (await c.count()) ? Number(await c.textContent()) : null;
}

let carolId = 0;
const made = {};

test('set-up: tickets of this run, one waiting for the customer and assigned to carol', async () => {
	const me = await api('carol', 'GET', '/api/support/session/');
	carolId = me.json.user.id;
	for (const [name, priority] of [['urgent printer', 'urgent'], ['low mouse', 'low'],
	    ['normal desk', 'normal']]) {
		const r = await api('alice', 'POST', '/api/support/tickets/',
		    { subject: `${RUN} ${name}`, initial_message: 'please help', priority });
		assert.equal(r.status, 201);
		made[name] = r.json;
	}
	const r = await api('carol', 'PATCH', `/api/support/tickets/${made['normal desk'].uuid}/`,
	    { assignee: carolId, status: 'waiting_for_user' });
	assert.equal(r.status, 200);
});

for (const js of [true, false]) {
	const how = js ? 'with JavaScript' : 'without JavaScript';
	let page = null;

	test(`queue ${how}: filter by the controls; the URL is the view`, async () => {
		const ctx = await newContext({ javaScriptEnabled: js });
		page = await ctx.newPage();
		await logIn(page, 'carol');
		await page.goto('/support/');
		assert.equal(await page.locator('#queue-views a[aria-current="page"] .view-name').textContent(),
		    'All tickets', 'the queue opens on All tickets');
		await page.locator('#q-filter').fill(RUN);
		await page.locator('#priority-filter').selectOption('urgent');
		await submit(page, page.getByRole('button', { name: 'Show' }));
		const u = new URL(page.url());
		assert.equal(u.searchParams.get('priority'), 'urgent');
		assert.equal(u.searchParams.get('q'), RUN);
		assert.deepEqual(await rows(page), [`${RUN} urgent printer`], 'the urgent one only');
		// Statuses by their checkboxes, an assignee by name.
		await page.goto('/support/');
		await page.getByRole('checkbox', { name: 'Waiting for the customer' }).check();
		await page.locator('#assignee-filter').selectOption({ label: 'Me' });
		await page.locator('#q-filter').fill(`${RUN} normal`);
		await submit(page, page.getByRole('button', { name: 'Show' }));
		assert.deepEqual(await rows(page), [`${RUN} normal desk`], 'carol\'s waiting one');
		assert.ok(await page.getByRole('checkbox', { name: 'Waiting for the customer' }).isChecked(),
		    'the checkbox stays checked on the page it led to');
		// A customer nobody is: the error next to the field.
		await page.locator('#customer-filter').fill('nobody-' + RUN);
		await submit(page, page.getByRole('button', { name: 'Show' }));
		assert.equal(await page.locator('#customer-filter').getAttribute('aria-invalid'), 'true');
		assert.match(await page.locator('#customer-error').textContent(), /No user/);
		await page.screenshot({ path: path.join(SHOTS, `queue-filter-${js ? 'js' : 'nojs'}.png`), fullPage: true });
	});

	test(`queue ${how}: save the view shown; it is in the sidebar with its count, then delete it`, async () => {
		const name = `${RUN} mine waiting ${js ? 'js' : 'nojs'}`;
		await page.goto('/support/');
		await page.getByRole('checkbox', { name: 'Waiting for the customer' }).check();
		await page.locator('#assignee-filter').selectOption({ label: 'Me' });
		await submit(page, page.getByRole('button', { name: 'Show' }));
		// The view in canonical form: the form's empty fields and the
		// default ordering left out.
		const shownUrl = BASE + '/support/?status=waiting_for_user&assignee=me';
		assert.equal((await rows(page)).length > 0, true, 'the view shows tickets');
		await page.getByLabel('Save this view as').fill(name);
		await submit(page, page.getByRole('button', { name: 'Save', exact: true }));
		assert.equal(page.url(), shownUrl, 'back on the view saved');
		const current = page.locator('#saved-views a[aria-current="page"] .view-name');
		assert.equal(await current.textContent(), name, 'the saved view is the current one');
		assert.equal(await page.locator('h1').textContent(), name, 'and names the page');
		const listed = Number((await page.locator('#ticket-count').textContent()).match(/\d+/)[0]);
		assert.equal(await viewCount(page, name), listed, 'its count is the number the list finds');
		// Another ticket of the view: the count follows.
		const r = await api('alice', 'POST', '/api/support/tickets/',
		    { subject: `${RUN} more ${js}`, initial_message: 'hello' });
		assert.equal((await api('carol', 'PATCH', `/api/support/tickets/${r.json.uuid}/`,
		    { assignee: carolId, status: 'waiting_for_user' })).status, 200);
		await page.reload();
		const now = Number((await page.locator('#ticket-count').textContent()).match(/\d+/)[0]);
		assert.equal(now, listed + 1, 'one more in the list');
		assert.equal(await viewCount(page, name), now, 'and in the count');
		// From another page, the sidebar link leads back to it.
		await page.goto('/support/?status=closed');
		await submit(page, page.locator('#saved-views a', { hasText: name }));
		assert.equal(page.url(), shownUrl, 'the saved link is the view');
		await submit(page, page.getByRole('button', { name: `Delete the view ${name}` }));
		assert.equal(new URL(page.url()).pathname, '/support/');
		assert.equal(await page.locator('#saved-views a', { hasText: name }).count(), 0, 'deleted');
	});
}

test('queue: at phone width (375px) the queue fits, its rows readable, without sideways scrolling', async () => {
	const ctx = await newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
	const page = await ctx.newPage();
	await logIn(page, 'carol');
	await page.goto(`/support/?q=${RUN}`);
	await page.screenshot({ path: path.join(SHOTS, 'queue-phone.png'), fullPage: true });
	const w = await page.evaluate(() => document.documentElement.scrollWidth);
	assert.ok(w <= 375, `the queue is ${w}px wide`);
	const row = page.locator('#tickets [data-uuid]').first();
	assert.ok(await row.locator('a.subject').isVisible(), 'a row\'s subject is shown');
	const box = await row.locator('a.subject').boundingBox();
	assert.ok(box.x >= 0 && box.x + box.width <= 375, 'inside the screen');
});

test('queue: a customer\'s list is still theirs, without the queue', async () => {
	const ctx = await newContext();
	const page = await ctx.newPage();
	await logIn(page, 'alice');
	await page.goto('/support/');
	assert.equal(await page.locator('#queue-views').count(), 0, 'no views');
	assert.equal(await page.locator('table').count(), 0, 'no table');
	assert.ok(await page.getByRole('link', { name: new RegExp(`${RUN} urgent printer`) }).isVisible(),
	    'alice sees her ticket');
});

test('queue: no console errors, page errors or CSP violations', () => {
	assert.deepEqual(problems, []);
});
