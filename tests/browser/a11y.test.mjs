// a11y.test.mjs - every page of the desk, for every role that sees it,
// checked by axe-core (tests/browser/node_modules/axe-core) in headless
// Chromium: no violation of impact "serious" or "critical" may remain.
//
// Environment (set by run.py): SUPPORT_URL, SUPPORT_USERS (JSON: name ->
// {password, token, role}; bob a customer, carol an agent, dave an
// admin), SHOT_DIR.  The customer whose pages are checked ("customer") is
// registered here, with tickets of their own.
//
// A new page is one line of PAGES below.  Each row: name (the test's
// name), as (who reads it: a key of SUPPORT_USERS, "customer" for the
// one registered here, or null for nobody logged in), path (a string, or a function of the fixtures made in
// before()), and optionally status (the HTTP status the page answers
// with), then (what a person does on the page before it is checked:
// open a dialog, send a form with an error) and ifMissing (a page another
// part of the desk may not have yet: its path may answer 404, and the
// 404 page it gets is checked instead, noted as such).
//
// axe is injected with page.addScriptTag({path}); the pages'
// Content-Security-Policy forbids any script but the desk's own file, so
// these contexts bypass it (desk.test.mjs checks the CSP as it is).

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
	SHOTS, USERS, api as apiCall, logIn, newContext, register,
} from './lib.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const AXE = path.join(HERE, 'node_modules', 'axe-core', 'axe.min.js');
const FAIL_IMPACTS = ['serious', 'critical'];
// Rules of a lesser impact that the desk holds every page to all the same
// (docs/testing.md): one h1, one main, all content in landmarks.
const FAIL_RULES = ['page-has-heading-one', 'landmark-one-main', 'region'];

const PAGES = [
	{ name: 'login', as: null, path: '/support/login/' },
	{ name: 'login with a wrong password', as: null, path: '/support/login/', status: 401,
	    then: wrongLogin },
	{ name: 'register', as: null, path: '/support/register/' },
	{ name: '404 (nobody logged in)', as: null, path: '/support/no-such-page/', status: 404 },
	{ name: 'password (customer)', as: 'customer', path: '/support/password/' },
	{ name: 'password (agent)', as: 'carol', path: '/support/password/' },
	{ name: 'my tickets (customer)', as: 'customer', path: '/support/' },
	{ name: 'new ticket (customer)', as: 'customer', path: '/support/tickets/new/' },
	{ name: 'new ticket with an empty subject', as: 'customer', path: '/support/tickets/new/',
	    status: 400, then: emptySubject },
	{ name: 'ticket page (customer)', as: 'customer', path: (f) => f.ticket },
	{ name: 'ticket page (agent, with an internal note)', as: 'carol', path: (f) => f.ticket },
	{ name: 'ticket page (admin)', as: 'dave', path: (f) => f.ticket },
	{ name: 'resolved ticket page (customer)', as: 'customer', path: (f) => f.resolved },
	{ name: 'staff queue (agent)', as: 'carol', path: '/support/' },
	{ name: 'staff queue (admin)', as: 'dave', path: '/support/' },
	{ name: 'staff queue, filtered', as: 'carol', path: '/support/?status=open' },
	{ name: 'staff queue, a search with snippets', as: 'carol', path: '/support/?q=export+button' },
	{ name: 'my tickets, a search (customer)', as: 'customer', path: '/support/?q=expo*' },
	{ name: 'staff queue, a row chosen with j', as: 'carol', path: '/support/',
	    then: async (page) => { await page.keyboard.press('j'); } },
	{ name: 'keyboard shortcuts dialog (queue)', as: 'carol', path: '/support/',
	    then: openKeysHelp },
	{ name: 'keyboard shortcuts dialog (ticket)', as: 'carol', path: (f) => f.ticket,
	    then: openKeysHelp },
	{ name: 'customer search (agent)', as: 'carol', path: '/support/customers/' },
	{ name: 'customer search results (agent)', as: 'carol', path: (f) => `/support/customers/?q=${f.customer.username}` },
	{ name: 'customer page (agent)', as: 'carol', path: (f) => `/support/customers/${f.customer.id}/` },
	{ name: '404 (customer)', as: 'customer', path: '/support/no-such-page/', status: 404 },
	{ name: '404 (agent)', as: 'carol', path: '/support/no-such-page/', status: 404 },
	{ name: 'someone else\'s ticket (customer: 404)', as: 'bob', path: (f) => f.ticket, status: 404 },
	{ name: 'canned responses (agent)', as: 'carol', path: '/support/canned/' },
	{ name: 'canned responses (admin)', as: 'dave', path: '/support/canned/' },
	{ name: 'new ticket for a customer (agent)', as: 'carol', path: '/support/tickets/new/' },
	{ name: 'staff queue, unassigned view', as: 'carol',
	    path: '/support/?status=open,waiting_for_admin&assignee=none' },
	{ name: 'staff queue, every filter', as: 'carol',
	    path: '/support/?status=open&status=resolved&priority=high&assignee=me&created_from=2026-01-01&created_to=2030-12-31&q=printer&ordering=-priority' },
	{ name: 'staff queue, an unknown customer (400)', as: 'carol',
	    path: '/support/?customer=no-such-customer-anywhere', status: 400 },
	{ name: 'admin: users', as: 'dave', path: '/support/admin/users/' },
	{ name: 'admin: users, search', as: 'dave', path: (f) => `/support/admin/users/?q=${f.customer.username}` },
	{ name: 'admin: a user', as: 'dave', path: (f) => `/support/admin/users/${f.customer.id}/` },
	{ name: 'admin: settings', as: 'dave', path: '/support/admin/settings/' },
	{ name: 'admin area refused to an agent (403)', as: 'carol', path: '/support/admin/users/', status: 403 },
	{ name: 'admin: audit log', as: 'dave', path: '/support/admin/audit/' },
	{ name: 'admin: audit log, a bad filter (400)', as: 'dave',
	    path: '/support/admin/audit/?actor=no-such-account-anywhere&from=2026-01-01', status: 400 },
	{ name: 'admin: audit log refused to an agent (403)', as: 'carol', path: '/support/admin/audit/', status: 403 },
	{ name: 'admin: webhooks out', as: 'dave', path: '/support/admin/webhooks/' },
	{ name: 'admin: webhooks out, a bad filter (400)', as: 'dave',
	    path: '/support/admin/webhooks/?state=lost', status: 400 },
	{ name: 'ticket page (agent), a message\'s edit form open', as: 'carol', path: (f) => f.ticket,
	    then: async (page) => { await page.locator('details.message-tools summary').first().click(); } },
	{ name: 'statistics dashboard (agent)', as: 'carol', path: '/support/stats/' },
	{ name: 'statistics dashboard, last 7 days (admin)', as: 'dave', path: '/support/stats/?days=7' },
	{ name: 'statistics dashboard, an empty window', as: 'carol', path: '/support/stats/?from=2020-01-01&to=2020-01-03' },
	{ name: 'statistics dashboard, a bad date (400)', as: 'carol', path: '/support/stats/?from=2026-13-01', status: 400 },
	{ name: 'statistics refused to a customer (403)', as: 'customer', path: '/support/stats/', status: 403 },
	{ name: 'rating link: the form, Good chosen (nobody logged in)', as: null, path: (f) => f.rateLink + '&r=good' },
	{ name: 'rating link: rated, the thank-you', as: null, path: (f) => f.ratedLink },
	{ name: 'rating link: a forged one (404)', as: null, path: (f) => f.rateLink.slice(0, -1) +
	    (f.rateLink.endsWith('a') ? 'b' : 'a'), status: 404 },
];

const pages = {};               // role key ('' for nobody) -> signed-in page
const fixtures = {};

// A call to the API as who: a standard user's name, or one register() made.
function api(who, method, apiPath, body) {
	return apiCall(who, method, '/api/support' + apiPath, body);
}

// The fixtures: a customer of our own with a ticket answered by staff,
// with an internal note and the customer's answer (every kind of message
// on the page), and a resolved ticket.
before(async () => {
	const c = fixtures.customer = await register('a11y');
	let r = await api(c, 'POST', '/tickets/',
	    { subject: 'A11y: the export button', initial_message:
	    'The **export** button does nothing.\n\n- Chrome\n- Firefox' });
	assert.equal(r.status, 201, 'ticket made through the API');
	const uuid = r.json.uuid;
	fixtures.ticket = `/support/tickets/${uuid}/`;
	for (const [who, body] of [
	    ['carol', { content: 'Which file type? See `Export > CSV`.' }],
	    ['carol', { content: 'Customer on the old plan.', is_internal: true }],
	    [c, { content: 'CSV, [here](https://example.com/x) is a sample.' }]]) {
		r = await api(who, 'POST', `/tickets/${uuid}/messages/`, body);
		assert.equal(r.status, 201, 'a message through the API');
	}
	r = await api(c, 'POST', '/tickets/',
	    { subject: 'A11y: solved already', initial_message: 'Fixed itself.' });
	assert.equal(r.status, 201);
	fixtures.resolved = `/support/tickets/${r.json.uuid}/`;
	r = await api(c, 'PATCH', `/tickets/${r.json.uuid}/`, { status: 'resolved' });
	assert.equal(r.status, 200, 'ticket resolved through the API');
	await rateLinkFixtures(c);
});

// The rating links of two resolved tickets of the customer, one of them
// rated (docs/reports.md "Satisfaction"): the token made here as the
// resolved mail makes it (lib/desk/ratelink.h), from the desk's
// secret_file, which run.py's SUPPORT_CONF names.
async function rateLinkFixtures(c) {
	const conf = fs.readFileSync(process.env.SUPPORT_CONF, 'utf8');
	const file = /^\s*secret_file\s*=\s*(\S+)/m.exec(conf)[1];
	const secret = fs.readFileSync(file).subarray(0, 4096);
	const key = crypto.createHmac('sha256', secret).update('rating-token').digest();
	const b32 = 'abcdefghijklmnopqrstuvwxyz234567';
	const link = (number) => {
		const raw = Buffer.alloc(20);
		raw.writeUInt32BE(number, 0);
		raw.writeUInt32BE(c.id, 4);
		raw.writeUInt16BE(Math.floor(Date.now() / 86400000) + 30, 8);
		crypto.createHmac('sha256', key).update('support-reply-v1')
		    .update(raw.subarray(0, 10)).digest().copy(raw, 10, 0, 10);
		let bits = '', t = '';
		for (const b of raw)
			bits += b.toString(2).padStart(8, '0');
		for (let i = 0; i < bits.length; i += 5)
			t += b32[parseInt(bits.slice(i, i + 5), 2)];
		return `/support/rate/?t=${t}`;
	};
	for (const [name, rate] of [['rateLink', false], ['ratedLink', true]]) {
		let r = await api(c, 'POST', '/tickets/',
		    { subject: `A11y: rate me (${name})`, initial_message: 'Please.' });
		assert.equal(r.status, 201);
		const { uuid, number } = r.json;
		r = await api('carol', 'PATCH', `/tickets/${uuid}/`, { status: 'resolved' });
		assert.equal(r.status, 200, 'resolved by staff');
		if (rate) {
			r = await api(c, 'POST', `/tickets/${uuid}/rating/`,
			    { rating: 'good', comment: 'Quick and kind.' });
			assert.equal(r.status, 201, 'rated through the API');
		}
		fixtures[name] = link(number);
	}
}

// The page of one reader, logged in through the log-in form once.
async function pageFor(who) {
	const key = who || '';
	if (pages[key])
		return pages[key];
	const ctx = await newContext({ bypassCSP: true }, { onPage: null });
	const page = await ctx.newPage();
	if (who) {
		const u = who === 'customer' ? fixtures.customer :
		    { username: who, password: USERS[who].password };
		await logIn(page, u.username, u.password);
	}
	pages[key] = page;
	return page;
}

async function wrongLogin(page) {
	await page.locator('#username').fill('bob');
	await page.locator('#password').fill('not-his-password');
	const [resp] = await Promise.all([
		page.waitForNavigation(),
		page.locator('#login-submit').click(),
	]);
	return resp;
}

async function emptySubject(page) {
	await page.locator('#initial_message').fill('No subject given.');
	const [resp] = await Promise.all([
		page.waitForNavigation(),
		page.locator('#new-ticket-submit').click(),
	]);
	return resp;
}

async function openKeysHelp(page) {
	await page.locator('body').focus();
	await page.keyboard.press('?');
	await page.getByRole('dialog').waitFor();
}

// axe's violations of the page as it is, at the impacts that fail.
async function violations(page) {
	if (!(await page.evaluate(() => typeof window.axe === 'object')))
		await page.addScriptTag({ path: AXE });
	const res = await page.evaluate(() => window.axe.run(document,
	    { resultTypes: ['violations'] }));
	return res.violations;
}

// What axe 4.14 no longer checks (WCAG 2.2 dropped 4.1.1) but the pages'
// script relies on: every id once; and at most one h1.  In axe's form.
async function ownChecks(page) {
	const c = await page.evaluate(() => {
		const seen = {}, dup = [];
		document.querySelectorAll('[id]').forEach((e) => {
			if (seen[e.id] && !dup.includes(e.id))
				dup.push(e.id);
			seen[e.id] = true;
		});
		return { dup, h1: document.querySelectorAll('h1').length };
	});
	const out = [];
	if (c.dup.length)
		out.push({ id: 'duplicate-id (own check)', impact: 'serious',
		    help: 'id attribute values must be unique', helpUrl: 'https://www.w3.org/TR/html/',
		    nodes: c.dup.map((id) => ({ target: [`[id="${id}"]`] })) });
	if (c.h1 > 1)
		out.push({ id: 'one-h1 (own check)', impact: 'serious',
		    help: `a page has one h1 (this one has ${c.h1})`, helpUrl: 'docs/testing.md',
		    nodes: [{ target: ['h1'] }] });
	return out;
}

function failing(v) {
	return FAIL_IMPACTS.includes(v.impact) || FAIL_RULES.includes(v.id);
}

function describe(v) {
	const where = v.nodes.slice(0, 5).map((n) => '    ' + n.target.join(' ') +
	    (n.failureSummary ? '\n      ' + n.failureSummary.replace(/\n/g, '\n      ') : ''));
	return `${v.impact} ${v.id}: ${v.help} (${v.helpUrl})\n` + where.join('\n') +
	    (v.nodes.length > 5 ? `\n    ... and ${v.nodes.length - 5} more` : '');
}

// The check itself can fail: on a real page made wrong on purpose (a field
// without a label, pale text, an id twice, a second h1) it finds each.
test('axe: the check finds what is wrong on a page', { timeout: 60000 }, async () => {
	const page = await pageFor(null);
	await page.goto('/support/login/');
	await page.evaluate(() => {
		const main = document.querySelector('main');
		const add = (html) => main.insertAdjacentHTML('beforeend', html);
		add('<input type="text" name="nolabel">');
		add('<p class="pale">pale text</p>');
		document.querySelector('p.pale').style.color = '#c8c8c8';
		add('<h1>A second heading</h1><span id="username">twice</span>');
	});
	const found = (await violations(page)).concat(await ownChecks(page));
	const ids = found.filter(failing).map((v) => v.id);
	for (const want of ['label', 'color-contrast', 'duplicate-id (own check)', 'one-h1 (own check)'])
		assert.ok(ids.includes(want), `${want} is found (found: ${ids.join(', ')})`);
});

for (const p of PAGES) {
	test(`axe: ${p.name}`, { timeout: 60000 }, async (t) => {
		const page = await pageFor(p.as);
		const url = typeof p.path === 'function' ? p.path(fixtures) : p.path;
		let resp = await page.goto(url);
		if (p.then)
			resp = (await p.then(page)) || resp;
		const status = resp.status();
		if (p.ifMissing && status === 404)
			t.diagnostic(`${url} is not there yet: its 404 page was checked`);
		else
			assert.equal(status, p.status || 200, `${url} answers ${p.status || 200}`);
		assert.ok(!new URL(page.url()).pathname.startsWith('/support/login/') ||
		    url.startsWith('/support/login/') || !p.as,
		    `${p.as} stays logged in (${page.url()})`);
		const found = (await violations(page)).concat(await ownChecks(page));
		for (const v of found.filter((v) => !failing(v)))
			t.diagnostic('not failing: ' + describe(v).split('\n')[0]);
		const bad = found.filter(failing);
		if (bad.length)
			await page.screenshot({ path: path.join(SHOTS, 'a11y-' +
			    p.name.replace(/[^a-z0-9]+/gi, '-') + '.png'), fullPage: true });
		assert.equal(bad.length, 0, `${url} as ${p.as || 'nobody'}: ` +
		    `${bad.length} serious or critical violation(s):\n` + bad.map(describe).join('\n'));
	});
}
