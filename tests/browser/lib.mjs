// lib.mjs - what the browser tests (*.test.mjs) share: the environment
// run.py sets, Debian's Chromium launched once per file and closed after
// it, browser contexts, the log-in form, the watch for console errors,
// uncaught errors and CSP reports, numbered screenshots, and calls to the
// API with a user's token or password.  Not a test file itself: run.py
// runs *.test.mjs only.
//
// node --test runs each test file in a process of its own, so the state
// kept here (the browser, the problems seen, the step running) is one
// file's.
//
// Environment (set by run.py): SUPPORT_URL (http://127.0.0.1:PORT),
// SUPPORT_USERS (JSON: name -> {password, token, role}; alice and bob
// customers, carol an agent, dave an admin), SHOT_DIR (screenshots),
// SUPPORT_CONF (the desk's support.conf).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const BASE = process.env.SUPPORT_URL;
export const USERS = JSON.parse(process.env.SUPPORT_USERS || '{}');
export const SHOTS = process.env.SHOT_DIR || path.resolve('test-out/browser');
export const STEP_TIMEOUT = 90000;      // one step() at most

export const LAUNCH_ARGS = [
	'--headless', '--no-sandbox', '--disable-gpu',
	'--disable-background-networking', '--disable-component-update',
	'--disable-sync', '--no-first-run', '--disable-quic',
];

fs.mkdirSync(SHOTS, { recursive: true });

let browser = null;
const contexts = [];

// The file's browser, launched at the first call.  playwright-core adds a
// fresh temporary --user-data-dir itself (it refuses one here); run.py
// points TMPDIR at its own scratch directory.
export async function getBrowser() {
	if (!browser)
		browser = await chromium.launch({
			executablePath: '/usr/bin/chromium',
			headless: true,
			args: LAUNCH_ARGS,
		});
	return browser;
}

after(async () => {
	for (const c of contexts)
		await c.close().catch(() => {});
	if (browser)
		await browser.close().catch(() => {});
});

// A new browser context (its own cookies: another person at another
// computer), closed after the file's tests.  opts are playwright's,
// over a 1024x768 en-US window on the desk; every page opened in it is
// given to onPage (watch unless said: null for none); timeout is the
// context's default for each action.
export async function newContext(opts = {}, { onPage = watch, timeout = 10000 } = {}) {
	const b = await getBrowser();
	const ctx = await b.newContext({
		baseURL: BASE,
		viewport: { width: 1024, height: 768 },
		locale: 'en-US',
		...opts,
	});
	ctx.setDefaultTimeout(timeout);
	if (onPage)
		ctx.on('page', onPage);
	contexts.push(ctx);
	return ctx;
}

// --- Problems: console errors, uncaught errors, CSP reports ------------

// {test, url, text} of each problem watch() saw, test the step running.
export const problems = [];
let current = '';
let pagesSeen = 0;

// The name of the step running ('' outside step()).
export function currentStep() {
	return current;
}

// How many pages the watched pages loaded (main frame navigations).
export function pagesLoaded() {
	return pagesSeen;
}

// Record console errors, uncaught exceptions and CSP violations of a page
// into problems.  A page answered with an error status on purpose (a form
// shown again with 400) logs "Failed to load resource" for itself: the
// caller marks those with expectStatus().
export function watch(page) {
	page.on('framenavigated', (frame) => {
		if (frame === page.mainFrame())
			pagesSeen++;
	});
	page.on('console', (msg) => {
		const text = msg.text();
		const csp = /Content[- ]Security[- ]Policy/i.test(text);
		if (msg.type() !== 'error' && !csp)
			return;
		const where = msg.location().url || page.url();
		// Chromium asks for /favicon.ico by itself, now and then: that
		// path belongs to the site the desk is added to, not to the desk.
		if (new URL(where, BASE).pathname === '/favicon.ico')
			return;
		const m = /status of (\d{3})/.exec(text);
		if (m && (page._expected || []).some((e) =>
		    e.status === Number(m[1]) && where.startsWith(e.url)))
			return;
		problems.push({ test: current, url: where, text });
	});
	page.on('pageerror', (err) => {
		problems.push({ test: current, url: page.url(), text: 'uncaught: ' + err.message });
	});
}

// The page's answer with status from url (and below it) is on purpose.
export function expectStatus(page, url, status) {
	page._expected = page._expected || [];
	page._expected.push({ url: new URL(url, BASE).href, status });
}

// One test of a user's step, named for the problem list; unless
// check is false, it fails on any problem its pages had.
export function step(name, fn, { check = true, timeout = STEP_TIMEOUT } = {}) {
	test(name, { timeout }, async () => {
		current = name;
		await fn();
		if (check) {
			const mine = problems.filter((p) => p.test === name);
			assert.deepEqual(mine, [], 'console errors, page errors or CSP violations');
		}
	});
}

// --- Pages ---------------------------------------------------------------

// A function(page, name) that screenshots the whole page into SHOTS as
// PREFIXNN-name.png, numbered in the order taken; it returns the file.
export function shooter(prefix) {
	let n = 0;
	return async (page, name) => {
		n++;
		const file = path.join(SHOTS, prefix + String(n).padStart(2, '0') + '-' + name + '.png');
		await page.screenshot({ path: file, fullPage: true });
		return file;
	};
}

// Log in through the log-in page, as a person would: the fields by their
// labels, the button by its name.  A page already on the log-in page
// (sent there with its next=) logs in there.
export async function logIn(page, username, password) {
	if (!/\/support\/login\//.test(page.url()))
		await page.goto('/support/login/');
	await page.getByLabel(/user ?name/i).fill(username);
	await page.getByLabel(/^password/i).fill(password);
	await Promise.all([
		page.waitForURL((u) => !u.pathname.startsWith('/support/login/')),
		page.getByRole('button', { name: /log ?in|sign ?in/i }).click(),
	]);
}

// Submit a form (a real one: the page navigates) by its button; wait for
// the page it leads to, and return the response the POST itself got: the
// redirect, or the page shown again (a 400 form).
export async function postForm(page, button) {
	const [nav] = await Promise.all([
		page.waitForNavigation(),
		button.click(),
	]);
	assert.ok(nav, 'the form led to a new page');
	let req = nav.request();
	while (req.redirectedFrom())
		req = req.redirectedFrom();
	assert.equal(req.method(), 'POST', 'the form was sent with POST');
	return req === nav.request() ? nav : await req.response();
}

// Poll `cond` until it is true or `ms` pass; fail with `what` then.
export async function waitUntil(cond, ms, what) {
	const end = Date.now() + ms;
	while (!(await cond())) {
		assert.ok(Date.now() < end, what + ` (waited ${ms} ms)`);
		await new Promise((r) => setTimeout(r, 200));
	}
}

// --- The API -------------------------------------------------------------

// The Authorization of HTTP Basic for username and password.
export function basicAuth(username, password) {
	return 'Basic ' + Buffer.from(`${username}:${password}`).toString('base64');
}

// A call to the API at url (from /api/...) as who: a standard user's name
// (their token), an object with an auth member (register()'s), an
// Authorization value, or '' / null for nobody.  body goes as JSON.
// {status, json}: json is null for an empty or non-JSON answer.
export async function api(who, method, url, body) {
	const auth = typeof who === 'string' && USERS[who] ? 'Bearer ' + USERS[who].token :
	    who && typeof who === 'object' ? who.auth : who;
	const r = await fetch(BASE + url, {
		method,
		headers: { ...(auth ? { Authorization: auth } : {}),
		    'Content-Type': 'application/json', Accept: 'application/json' },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await r.text();
	let json = null;
	try {
		json = text ? JSON.parse(text) : null;
	} catch {
		json = null;
	}
	return { status: r.status, json };
}

// A customer of the file's own, registered through the API (the standard
// ones have at most max_tickets_per_user open tickets, shared by every
// test file): {username, password, id, auth}.
export async function register(prefix) {
	const username = prefix + Date.now().toString(36) + Math.random().toString(36).slice(2, 6);
	const password = `pw-${username}-Secret-1`;
	const r = await api(null, 'POST', '/api/support/users/', { username, password,
	    email: username + '@example.com', display_name: 'Test ' + prefix });
	assert.equal(r.status, 201, 'a customer registered through the API');
	return { username, password, id: r.json.id, auth: basicAuth(username, password) };
}
