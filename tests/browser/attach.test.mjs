// attach.test.mjs - files on messages in a real browser (issue 18 parts
// 1-3, docs/attachments.md): with JavaScript, a file chosen in the reply
// form is sent with a progress bar and shown in the thread (a link, and a
// thumbnail for a picture that loads); a file dropped on the field's box
// is taken; a refused file is named; without JavaScript, the same form
// posts multipart and the page comes back with the file.
//
// Environment as desk.test.mjs (run.py sets it).  This file makes its own
// customer (through the register page) and its own ticket; the standard
// users are not changed.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.SUPPORT_URL;
const SHOTS = process.env.SHOT_DIR || path.resolve('test-out/browser');
const STEP_TIMEOUT = 90000;

fs.mkdirSync(SHOTS, { recursive: true });

// A 1x1 PNG.
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4' +
    '890000000d49444154789c63f80f000001010005180d8e0000000049454e44ae426082', 'hex');

let browser = null;
const contexts = [];
const problems = [];
let current = '';

const customer = {
	username: 'at' + Date.now().toString(36),
	display: 'Ada Attach',
	password: 'ada-Secret-pass-1',
};
const state = { ticket: null };

async function getBrowser() {
	if (!browser)
		browser = await chromium.launch({
			executablePath: '/usr/bin/chromium', headless: true,
			args: ['--headless', '--no-sandbox', '--disable-gpu',
				'--disable-background-networking', '--no-first-run'],
		});
	return browser;
}

after(async () => {
	for (const c of contexts)
		await c.close().catch(() => {});
	if (browser)
		await browser.close().catch(() => {});
	assert.deepEqual(problems, [], 'no script errors on the pages');
});

async function newContext(opts = {}) {
	const b = await getBrowser();
	const ctx = await b.newContext({ baseURL: BASE,
		viewport: { width: 1200, height: 900 }, locale: 'en-US', ...opts });
	ctx.setDefaultTimeout(15000);
	ctx.on('page', (page) => {
		page.on('console', (msg) => {
			if (msg.type() === 'error' && !/status of 4\d\d/.test(msg.text()))
				problems.push({ test: current, text: msg.text() });
		});
		page.on('pageerror', (err) => problems.push({ test: current,
			text: 'uncaught: ' + err.message }));
	});
	contexts.push(ctx);
	return ctx;
}

function step(name, fn) {
	test(name, { timeout: STEP_TIMEOUT }, async () => {
		current = name;
		await fn();
	});
}

async function api(method, url, body) {
	const r = await fetch(BASE + url, { method, headers: {
		Authorization: 'Basic ' + Buffer.from(customer.username + ':' +
		    customer.password).toString('base64'),
		Accept: 'application/json', 'Content-Type': 'application/json' },
		body: body ? JSON.stringify(body) : undefined });
	const text = await r.text();
	return { status: r.status, json: text ? JSON.parse(text) : null };
}

async function logIn(page) {
	await page.goto('/support/login/');
	await page.getByLabel(/user ?name/i).fill(customer.username);
	await page.getByLabel(/^password/i).fill(customer.password);
	await Promise.all([
		page.waitForURL((u) => !u.pathname.startsWith('/support/login/')),
		page.getByRole('button', { name: /log ?in|sign ?in/i }).click(),
	]);
}

async function lastMessage() {
	const t = await api('GET', `/api/support/tickets/${state.ticket.uuid}/`);
	return t.json.messages[t.json.messages.length - 1];
}

step('setup: a customer registers and opens a ticket', async () => {
	const ctx = await newContext();
	const page = await ctx.newPage();
	await page.goto('/support/register/');
	await page.getByLabel('Username').fill(customer.username);
	await page.getByLabel(/your name/i).fill(customer.display);
	await page.getByLabel('E-mail').fill(customer.username + '@example.com');
	await page.getByLabel(/^password/i).fill(customer.password);
	await Promise.all([page.waitForURL(/\/support\/$/),
		page.locator('#register-submit').click()]);
	const r = await api('POST', '/api/support/tickets/',
	    { subject: 'Browser attachments', initial_message: 'Files follow.' });
	assert.equal(r.status, 201, 'ticket opened: ' + JSON.stringify(r.json));
	state.ticket = r.json;
	await ctx.close();
});

step('with JavaScript: a chosen picture goes up with a progress bar and shows as a thumbnail', async () => {
	const ctx = await newContext();
	const page = await ctx.newPage();
	await logIn(page);
	await page.goto(`/support/tickets/${state.ticket.uuid}/`);
	assert.equal(await page.locator('#reply').getAttribute('enctype'), 'multipart/form-data');
	await page.getByLabel('Attach files').setInputFiles({ name: 'pixel.png',
		mimeType: 'image/png', buffer: PNG });
	assert.match(await page.locator('#files-chosen').innerText(), /pixel\.png/);
	await page.locator('#content').fill('A picture with JavaScript.');
	assert.equal(await page.locator('#upload-progress').isHidden(), true,
	    'the progress bar waits for an upload');
	// What the bar showed, kept across the reload that follows the send.
	await page.evaluate(() => {
		const bar = document.getElementById('upload-progress');
		new MutationObserver(() => {
			if (!bar.hidden)
				sessionStorage.setItem('shown', 'yes');
			sessionStorage.setItem('progress', String(bar.value));
		}).observe(bar, { attributes: true });
	});
	await Promise.all([
		page.waitForEvent('load'),
		page.locator('#send').click(),
	]);
	assert.equal(await page.evaluate(() => sessionStorage.getItem('shown')), 'yes',
	    'the progress bar was shown');
	assert.equal(await page.evaluate(() => sessionStorage.getItem('progress')), '100',
	    'and reached 100');
	const link = page.locator('#thread .attachments a', { hasText: 'pixel.png' });
	await link.waitFor();
	const img = page.locator('#thread .attachments img.thumb').last();
	await img.waitFor();
	await page.waitForFunction((el) => el.complete && el.naturalWidth > 0,
	    await img.elementHandle());
	await page.screenshot({ path: path.join(SHOTS, 'attach-js.png'), fullPage: true });
	const m = await lastMessage();
	assert.equal(m.content, 'A picture with JavaScript.');
	assert.deepEqual(m.attachments.map((a) => a.name), ['pixel.png']);
	assert.equal(await link.getAttribute('href'), m.attachments[0].url);
	await ctx.close();
});

step('with JavaScript: a file dropped on the field is taken, and sent', async () => {
	const ctx = await newContext();
	const page = await ctx.newPage();
	await logIn(page);
	await page.goto(`/support/tickets/${state.ticket.uuid}/`);
	await page.evaluate(() => {
		const dt = new DataTransfer();
		dt.items.add(new File(['dropped text\n'], 'dropped.txt', { type: 'text/plain' }));
		const box = document.getElementById('attach-field');
		box.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true,
			cancelable: true }));
		box.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true,
			cancelable: true }));
	});
	assert.match(await page.locator('#files-chosen').innerText(), /dropped\.txt/);
	await page.locator('#content').fill('A dropped file.');
	await Promise.all([page.waitForEvent('load'), page.locator('#send').click()]);
	await page.locator('#thread .attachments a', { hasText: 'dropped.txt' }).waitFor();
	const m = await lastMessage();
	assert.deepEqual(m.attachments.map((a) => a.name), ['dropped.txt']);
	await ctx.close();
});

step('with JavaScript: an HTML file named .png is refused, named, the draft kept', async () => {
	const ctx = await newContext();
	const page = await ctx.newPage();
	await logIn(page);
	await page.goto(`/support/tickets/${state.ticket.uuid}/`);
	const before = (await lastMessage()).uuid;
	await page.getByLabel('Attach files').setInputFiles({ name: 'cat.png',
		mimeType: 'image/png', buffer: Buffer.from('<html><script>alert(1)</script></html>') });
	await page.locator('#content').fill('Not a picture.');
	await page.locator('#send').click();
	await page.locator('#reply-status', { hasText: 'cat.png' }).waitFor();
	assert.equal(await page.locator('#content').inputValue(), 'Not a picture.');
	assert.equal((await lastMessage()).uuid, before, 'nothing posted');
	await ctx.close();
});

step('without JavaScript: the form posts the file and the page shows it', async () => {
	const ctx = await newContext({ javaScriptEnabled: false });
	const page = await ctx.newPage();
	await logIn(page);
	await page.goto(`/support/tickets/${state.ticket.uuid}/`);
	await page.getByLabel('Attach files').setInputFiles({ name: 'nojs.pdf',
		mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n%%EOF\n') });
	await page.locator('#content').fill('Without JavaScript.');
	await Promise.all([page.waitForURL(`**/support/tickets/${state.ticket.uuid}/`),
		page.locator('#send').click()]);
	await page.locator('#thread .attachments a', { hasText: 'nojs.pdf' }).waitFor();
	const m = await lastMessage();
	assert.equal(m.content, 'Without JavaScript.');
	assert.deepEqual(m.attachments.map((a) => a.name), ['nojs.pdf']);
	await page.screenshot({ path: path.join(SHOTS, 'attach-nojs.png'), fullPage: true });
	await ctx.close();
});
