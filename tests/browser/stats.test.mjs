// stats.test.mjs - the staff's statistics dashboard (/support/stats/) in
// a real browser, with JavaScript and without: reached from the header's
// Dashboard link, its numbers those of GET /api/support/stats/ (read
// before and after the page, since the other files write tickets on the
// same server), three charts each an image with a name and a
// description, a table beside each, the window chosen by a link and by
// the form, a bad date refused by the form; a customer has no link and
// is refused.
//
// Environment (set by run.py): SUPPORT_URL, SUPPORT_USERS (alice a
// customer, carol an agent, with their passwords and tokens), SHOT_DIR.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
	SHOTS, USERS, api, logIn as libLogIn, newContext as libNewContext,
} from './lib.mjs';

const RUN = 's' + Date.now().toString(36);

const problems = [];

// A context of its own in a 1200x900 window: console errors, uncaught
// errors and CSP reports are problems (but the refused bad date and customer).
function newContext(opts = {}) {
	return libNewContext({ viewport: { width: 1200, height: 900 }, ...opts }, {
		onPage: (page) => {
			page.on('console', (msg) => {
				// The bad date and the customer are refused on purpose.
				if (/status of 40[03]/.test(msg.text()))
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

async function dashboard(js) {
	const ctx = await newContext({ javaScriptEnabled: js });
	const page = await ctx.newPage();
	const what = js ? 'with JavaScript' : 'without JavaScript';

	const t = await api('alice', 'POST', '/api/support/tickets/',
	    { subject: `${RUN} stats`, initial_message: 'Count me.' });
	assert.equal(t.status, 201, 'a ticket of our own');
	await logIn(page, 'carol');
	const before = (await api('carol', 'GET', '/api/support/stats/?days=30')).json;
	await page.getByRole('link', { name: 'Dashboard' }).click();
	await page.waitForURL(/\/support\/stats\/$/);
	const after = (await api('carol', 'GET', '/api/support/stats/?days=30')).json;
	await page.screenshot({ path: path.join(SHOTS, `stats-${js ? 'js' : 'nojs'}.png`), fullPage: true });

	assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Statistics', what);
	const total = Number(await page.locator('#stat-total').textContent());
	assert.ok(total >= 1 && before.total_tickets <= total && total <= after.total_tickets,
	    `${what}: ${total} created, between the API's ${before.total_tickets} and ${after.total_tickets}`);
	for (const name of [/created and resolved per day/i, /first-response and resolution time/i,
	    /tickets by status/i]) {
		const img = page.getByRole('img', { name });
		assert.equal(await img.count(), 1, `${what}: the chart ${name}`);
		assert.ok((await img.getAttribute('aria-labelledby')).includes('desc'),
		    `${what}: ${name} has a description`);
	}
	assert.equal(await page.locator('#chart-volume rect').count(), 60, `${what}: two bars a day`);
	for (const id of ['table-volume', 'table-trend', 'table-status'])
		assert.equal(await page.locator(`#${id}`).count(), 1, `${what}: ${id}`);
	assert.equal(await page.locator('#table-volume tbody tr').count(), 30, `${what}: 30 days in the table`);

	await page.getByRole('link', { name: 'Last 7 days' }).click();
	await page.waitForURL(/days=7/);
	assert.equal(await page.locator('#window-7').getAttribute('aria-current'), 'page', what);
	assert.equal(await page.locator('#table-volume tbody tr').count(), 7, `${what}: 7 days`);

	await page.getByLabel('From', { exact: true }).fill('2020-01-01');
	await page.getByLabel('To', { exact: true }).fill('2020-01-03');
	await Promise.all([page.waitForURL(/from=2020-01-01/),
	    page.getByRole('button', { name: 'Show' }).click()]);
	assert.equal(await page.locator('#stat-total').textContent(), '0', `${what}: nothing in 2020`);
	assert.match(await page.locator('#stats-window-text').textContent(), /2020-01-01 to 2020-01-03 \(3 days/);
	assert.equal(await page.locator('#table-volume tbody tr').count(), 3, `${what}: 3 days`);

	await page.goto('/support/stats/?from=2020-01-05&to=2020-01-01');
	assert.match(await page.locator('#from-error').textContent(), /starts after it ends/, what);
	assert.equal(await page.locator('#stats-from').getAttribute('aria-invalid'), 'true', what);
	assert.equal(await page.locator('#stats-from').inputValue(), '2020-01-05', `${what}: kept`);
	await ctx.close();
}

test('the dashboard with JavaScript', async () => {
	await dashboard(true);
	assert.deepEqual(problems, []);
});

test('the dashboard without JavaScript', async () => {
	await dashboard(false);
	assert.deepEqual(problems, []);
});

test('a customer has no Dashboard link and is refused', async () => {
	const ctx = await newContext();
	const page = await ctx.newPage();
	await logIn(page, 'alice');
	assert.equal(await page.getByRole('link', { name: 'Dashboard' }).count(), 0);
	const r = await page.goto('/support/stats/');
	assert.equal(r.status(), 403);
	await ctx.close();
});
