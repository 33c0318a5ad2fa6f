// tests/browser/web.test.mjs - kairan's pages in a real browser: Debian's
// chromium driven by playwright-core, checked by axe-core (WCAG 2.1 AA, the
// level JIS X 8341-3:2016 AA asks for). Prints TAP; run by
// tests/t0033-browser.sh against a town node it set up.
//
//   node web.test.mjs BASE_URL ARTIFACT_DIR
//
// Every page visited is saved as ARTIFACT_DIR/NN-name.png.
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const [base, artdir] = process.argv.slice(2);
mkdirSync(artdir, { recursive: true });

let n = 0, failed = 0, shots = 0;
function ok(cond, what, detail) {
	n++;
	if (cond) {
		console.log(`ok ${n} - ${what}`);
	} else {
		failed++;
		console.log(`not ok ${n} - ${what}`);
		if (detail) for (const line of String(detail).split('\n')) console.log(`# ${line}`);
	}
}

const browser = await chromium.launch({
	executablePath: '/usr/bin/chromium',
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
		'--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function shot(page, name) {
	const file = `${artdir}/${String(++shots).padStart(2, '0')}-${name}.png`;
	await page.screenshot({ path: file, fullPage: true });
}

// axe-core with the WCAG 2.0/2.1 A and AA rules; returns the violations as text.
async function axe(page) {
	await page.addScriptTag({ content: AXE });
	const res = await page.evaluate(async () => await window.axe.run(document,
		{ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
	return res.violations.map(v => `${v.id}: ${v.help} (${v.nodes.length}) ${v.nodes.slice(0, 3).map(x => x.target.join(' ')).join(' | ')}`);
}

const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, locale: 'ja-JP' });
const page = await context.newPage();

// 1. search ごみ → the 三豊市 case → 見送り and 正答率 94.1%
await page.goto(`${base}/search`);
await page.fill('#q', 'ごみ');
await Promise.all([page.waitForNavigation(), page.click('form[role=search] button[type=submit]')]);
await shot(page, 'search-gomi');
await Promise.all([page.waitForNavigation(), page.click('a[href="/items/372081/case/gomi-chatbot-poc"]')]);
await shot(page, 'case-mitoyo');
const caseText = await page.innerText('main');
ok(page.url().endsWith('/items/372081/case/gomi-chatbot-poc') && caseText.includes('見送り') && caseText.includes('正答率 94.1%'),
	'search ごみ, click the 三豊市 case: 見送り and 正答率 94.1% are on the page', caseText.slice(0, 300));

// 2. the guideline's 差分 page marks the changed sentence
await page.goto(`${base}/items/372081/guideline/ai-guideline`);
await shot(page, 'guideline');
await Promise.all([page.waitForNavigation(), page.click('text=前の版との差分')]);
await shot(page, 'guideline-diff');
const ins = await page.$$eval('.diff ins', els => els.map(e => e.textContent));
ok(ins.some(t => t.includes('住民向け利用の確認手順を追加')), 'the 差分 page marks the changed sentence (ins)', ins.join(' / '));
const insStyle = await page.$eval('.diff ins', e => getComputedStyle(e).textDecorationLine);
ok(insStyle.includes('underline'), 'an addition is shown by more than colour (underlined)', insStyle);

// 3. the dataset viewer pages by 100
await page.goto(`${base}/items/370002/dataset/big-qa/rows`);
await shot(page, 'rows-page1');
let rows = await page.$$eval('tbody tr th[scope=row]', els => els.map(e => e.textContent));
ok(rows.length === 100 && rows[0] === 'r001' && rows[99] === 'r100', 'the dataset viewer shows rows 1-100', rows.slice(0, 3).join(','));
await Promise.all([page.waitForNavigation(), page.click('a[rel=next]')]);
rows = await page.$$eval('tbody tr th[scope=row]', els => els.map(e => e.textContent));
ok(rows.length === 100 && rows[0] === 'r101', 'the next page shows rows 101-200', rows.slice(0, 3).join(','));
await Promise.all([page.waitForNavigation(), page.click('a[rel=next]')]);
await shot(page, 'rows-page3');
rows = await page.$$eval('tbody tr th[scope=row]', els => els.map(e => e.textContent));
ok(rows.length === 50 && rows[49] === 'r250' && (await page.$('a[rel=next]')) === null,
	'the last page shows rows 201-250 and no next link', `${rows.length} ${rows[rows.length - 1]}`);
await page.fill('#rq', 'r007');
await Promise.all([page.waitForNavigation(), page.press('#rq', 'Enter')]);
rows = await page.$$eval('tbody tr th[scope=row]', els => els.map(e => e.textContent));
ok(rows.length === 1 && rows[0] === 'r007', 'the filter narrows the rows', rows.join(','));

// 3b. a row hit opens that row (its own page; a '#' in the link would open the dataset)
await page.goto(`${base}/search`);
await page.fill('#q', '粗大ごみ 申込');
await Promise.all([page.waitForNavigation(), page.click('form[role=search] button[type=submit]')]);
await Promise.all([page.waitForNavigation(), page.click('a[href="/items/370002/dataset/gomi-qa/rows/q002"]')]);
await shot(page, 'row-q002');
const rowH1 = await page.innerText('h1');
const marked = await page.$$eval('tr[aria-current=true] th[scope=row]', els => els.map(e => e.textContent));
const rowText = await page.innerText('main');
ok(page.url().endsWith('/items/370002/dataset/gomi-qa/rows/q002') && rowH1.includes('行 q002') &&
	marked.length === 1 && marked[0] === 'q002' && rowText.includes('粗大ごみはどうやって申し込みますか'),
	'search 粗大ごみ 申込, click the row hit: that row, marked in the viewer', `${page.url()} ${rowH1} ${marked}`);

// 4. keyboard only: search → item → diff
const kb = await context.newPage();
await kb.goto(`${base}/search`);
async function tabTo(p, test, max = 80) {
	for (let i = 0; i < max; i++) {
		await p.keyboard.press('Tab');
		if (await p.evaluate(test)) return true;
	}
	return false;
}
let reached = await tabTo(kb, () => document.activeElement && document.activeElement.id === 'q');
ok(reached, 'Tab reaches the search box');
await kb.goto(`${base}/search`);
await kb.keyboard.press('Tab');
const first = await kb.evaluate(() => document.activeElement.textContent);
ok(first === '本文へ移動', 'the first Tab stop is the skip link', first);
reached = await tabTo(kb, () => document.activeElement && document.activeElement.id === 'q');
// ごみ again: the gomi-qa dataset's 40 rows take at most 3 places on the page, so the guideline is on it
await kb.keyboard.type('ごみ');
await Promise.all([kb.waitForNavigation(), kb.keyboard.press('Enter')]);
reached = await tabTo(kb, () => document.activeElement && document.activeElement.getAttribute('href') === '/items/372081/guideline/ai-guideline');
const outline = await kb.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
ok(reached && outline !== 'none', 'Tab reaches the guideline among the results, with a visible focus outline', outline);
await Promise.all([kb.waitForNavigation(), kb.keyboard.press('Enter')]);
reached = await tabTo(kb, () => document.activeElement && (document.activeElement.getAttribute('href') || '').includes('/diff?'));
await Promise.all([kb.waitForNavigation(), kb.keyboard.press('Enter')]);
await shot(kb, 'keyboard-diff');
ok(reached && kb.url().includes('/items/372081/guideline/ai-guideline/diff') && (await kb.$('.diff ins')) !== null,
	'Enter on the 前の版との差分 link opens the diff, keyboard only', kb.url());
reached = await tabTo(kb, () => document.activeElement && document.activeElement.id === 'a');
await kb.keyboard.press('ArrowDown');
reached = reached && await tabTo(kb, () => document.activeElement && document.activeElement.type === 'submit' &&
	document.activeElement.textContent === '比較する');
await Promise.all([kb.waitForNavigation(), kb.keyboard.press('Enter')]);
ok(reached && kb.url().includes('a='), 'the version choice and 比較する work from the keyboard', kb.url());
await kb.close();

// 5. axe-core: no WCAG 2.1 AA violation on any page (axe is injected, so this
// context lets the test's own script past the CSP; the pages are unchanged)
const axectx = await browser.newContext({ viewport: { width: 1100, height: 900 }, locale: 'ja-JP', bypassCSP: true });
const ap = await axectx.newPage();
const pages = [
	['recent', '/'], ['search', '/search'], ['search-results', '/search?q=%E3%81%94%E3%81%BF'],
	['search-facet', '/search?q=AI&outcome=%E8%A6%8B%E9%80%81%E3%82%8A'],
	['case', '/items/372081/case/gomi-chatbot-poc'], ['guideline', '/items/372081/guideline/ai-guideline'],
	['diff', '/items/372081/guideline/ai-guideline/diff'], ['dataset', '/items/370002/dataset/gomi-qa'],
	['rows', '/items/370002/dataset/gomi-qa/rows'], ['row', '/items/370002/dataset/gomi-qa/rows/q002'], ['federation', '/federation'], ['status', '/status'],
	['not-found', '/items/999999/case/none'], ['bad-request', '/search?q=%FF'], ['hostile', '/items/142018/case/xss-probe'],
];
for (const [name, path] of pages) {
	const resp = await ap.goto(`${base}${path}`);
	await shot(ap, `axe-${name}`);
	const v = await axe(ap);
	ok(v.length === 0, `axe-core: no WCAG 2.1 AA violation on ${path} (HTTP ${resp.status()})`, v.join('\n'));
}

// 6. XSS probes, asserted in the browser. CSP is bypassed here so that only
// the escaping stands between a probe and execution.
const hostile = await browser.newContext({ bypassCSP: true, javaScriptEnabled: true });
const hp = await hostile.newPage();
let dialogs = 0;
hp.on('dialog', d => { dialogs++; d.dismiss(); });
const probes = [
	['/items/142018/case/xss-probe', 'a hostile publisher\'s case'],
	['/items/142018/dataset/evil', 'a hostile dataset card'],
	['/items/142018/dataset/evil/rows', 'hostile dataset rows'],
	['/search?q=%E6%94%BB%E6%92%83', 'search results listing the hostile case'],
	['/', '新着 listing hostile titles'],
	['/search?q=%3Cscript%3Ewindow.__xss%3D20%3C%2Fscript%3E%22%3E%3Cimg%20src%3Dx%20onerror%3Dwindow.__xss%3D21%3E', 'a query with script and attribute injection'],
	['/items/142018/case/%3Cscript%3Ewindow.__xss=22%3C%2Fscript%3E', 'a 404 for a path with a script tag'],
];
for (const [path, what] of probes) {
	await hp.goto(`${base}${path}`);
	await hp.mouse.move(200, 200);
	for (const a of await hp.$$('main a')) await a.hover().catch(() => {});
	const state = await hp.evaluate(() => {
		const onattrs = [];
		for (const el of document.querySelectorAll('*'))
			for (const at of el.attributes)
				if (/^on/i.test(at.name) || /^\s*(javascript|data|vbscript):/i.test(at.value)) onattrs.push(`${el.tagName}@${at.name}=${at.value}`);
		return { xss: window.__xss, scripts: document.scripts.length, frames: document.querySelectorAll('iframe,object,embed').length,
			imgs: document.querySelectorAll('img').length, onattrs, text: document.body.innerText };
	});
	await hp.screenshot({ path: `${artdir}/${String(++shots).padStart(2, '0')}-xss-${shots}.png`, fullPage: true });
	ok(state.xss === undefined && dialogs === 0 && state.scripts === 0 && state.frames === 0 && state.imgs === 0 &&
		state.onattrs.length === 0, `XSS probe inert in the browser: ${what}`,
		JSON.stringify({ xss: state.xss, dialogs, scripts: state.scripts, frames: state.frames, imgs: state.imgs, on: state.onattrs }));
}
const caseText2 = await (async () => { await hp.goto(`${base}/items/142018/case/xss-probe`); return hp.innerText('body'); })();
ok(caseText2.includes('<script>window.__xss=1</script>攻撃テスト') && caseText2.includes('javascript:window.__xss=7'),
	'the probes are shown as the text the publisher wrote', caseText2.slice(0, 200));
// what looked like links goes nowhere dangerous: cmark empties a javascript:
// target (href=""), our own pages link only to our paths or http(s)
const hrefs = await hp.$$eval('a', els => els.map(a => a.getAttribute('href')));
ok(hrefs.length > 0 && hrefs.every(h => h !== null && !/^\s*(javascript|data|vbscript):/i.test(h)),
	'no link on the hostile page has a javascript:, data: or vbscript: target', hrefs.join(' '));
for (const a of await hp.$$('main a[href=""]')) await a.click().catch(() => {});
ok((await hp.evaluate(() => window.__xss)) === undefined && dialogs === 0, 'nothing ran after all probes');

// 7. the headers hold without bypass: an inline script would be refused by CSP
const strict = await browser.newContext();
const sp = await strict.newPage();
const resp = await sp.goto(`${base}/`);
const csp = resp.headers()['content-security-policy'] || '';
ok(csp.includes("default-src 'self'") && csp.includes("frame-ancestors 'none'") &&
	resp.headers()['x-content-type-options'] === 'nosniff', 'CSP and nosniff reach the browser', csp);

await browser.close();
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
