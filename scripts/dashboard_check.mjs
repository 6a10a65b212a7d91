// The dashboard as a person uses it (run by scripts/check-dashboard, which sets the
// environment): starts the server, waits for its "listening on" line, then in headless
// Chromium signs in, checks every flow is on the overview, opens the dead-letter inbox, edits a
// dead letter's payload, saves and retries it, checks it is resolved, opens the webhook
// deliveries and filters them, makes an API key on the Keys page and revokes it. Every step leaves a
// screenshot; any failure exits 1 saying what was expected.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import readline from "node:readline";

const mode = process.env.DASHBOARD_CHECK_MODE ?? "demo";
const tiltas = need("TILTAS_BIN");
const workDir = need("WORK_DIR");
const screenshots = need("SCREENSHOTS");
const chromiumPath = need("CHROMIUM");
// playwright-core lives in the run's temporary directory, not in the repository.
const { chromium } = createRequire(path.join(workDir, "node_modules") + path.sep)("playwright-core");

/** How long the server may take to print its lines (a first build of the demo's data). */
const STARTUP_DEADLINE_MS = 120_000;
/** How long the demo's first round may take to leave its dead letter. */
const FIRST_ROUND_DEADLINE_MS = 120_000;
/** A SKU the Rivile simulator always seeds. */
const KNOWN_SKU = "A00101";

function need(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`dashboard_check.mjs: ${name} is not set; run scripts/check-dashboard`);
    process.exit(2);
  }
  return value;
}

class Expectation extends Error {}

function expect(condition, message) {
  if (!condition) throw new Expectation(message);
}

/** Starts the server and resolves with its URL and key once it printed them. */
function startServer() {
  const args =
    mode === "demo"
      ? ["demo", "--listen", "127.0.0.1:0", "--db", `sqlite://${workDir}/demo.db`]
      : ["--db", `sqlite://${workDir}/dashboard.db`, "serve", "--listen", "127.0.0.1:0", "--config", path.join(workDir, "flows.toml")];
  const child = spawn(tiltas, args, { cwd: workDir, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const ready = new Promise((resolve, reject) => {
    let url = null;
    let key = mode === "demo" ? null : process.env.DASHBOARD_KEY;
    const timer = setTimeout(
      () => reject(new Expectation(`expected "listening on http://…"${mode === "demo" ? ' and "admin key: …"' : ""} on stdout within ${STARTUP_DEADLINE_MS / 1000} s; stderr:\n${stderr}`)),
      STARTUP_DEADLINE_MS,
    );
    readline.createInterface({ input: child.stdout }).on("line", (line) => {
      url ??= line.match(/^listening on (http:\/\/\S+)$/)?.[1] ?? null;
      key ??= line.match(/^admin key: (tiltas_\S+)$/)?.[1] ?? null;
      if (url && key) {
        clearTimeout(timer);
        resolve({ url, key });
      }
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Expectation(`tiltas ${args[0] === "demo" ? "demo" : "serve"} exited (${code ?? signal}) before it was ready; stderr:\n${stderr}`));
    });
    child.on("error", (error) => reject(new Expectation(`cannot start ${tiltas}: ${error.message}`)));
  });
  return { child, ready };
}

let step = 0;
async function shot(page, name) {
  step += 1;
  const file = path.join(screenshots, `${String(step).padStart(2, "0")}-${mode}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`  screenshot ${path.relative(process.cwd(), file)}`);
}

/** Waits for visible text on the page, failing with what was expected where. */
async function expectVisible(page, text, where) {
  try {
    await page.getByText(text).first().waitFor({ state: "visible", timeout: 15_000 });
  } catch {
    throw new Expectation(`expected "${text}" on ${where} (${page.url()})`);
  }
}

async function flashText(page) {
  const flash = page.locator(".flash");
  return (await flash.count()) > 0 ? (await flash.first().innerText()).trim() : "";
}

/** The open dead letters' links of the inbox, waiting (by reloading) for the first round. */
async function openLetterLinks(page, base, groupPattern) {
  const deadline = Date.now() + (mode === "demo" ? FIRST_ROUND_DEADLINE_MS : 0);
  for (;;) {
    await page.goto(`${base}/dead-letters`);
    const groups = page.locator("details.group").filter({ hasText: groupPattern });
    if ((await groups.count()) > 0) return groups.first().locator('th[scope="row"] a');
    if (Date.now() >= deadline) {
      throw new Expectation(`expected a dead-letter group matching ${groupPattern} in the inbox; it shows:\n${await page.locator("main").innerText()}`);
    }
    await page.waitForTimeout(1_000); // the demo's first round is still running: look again
  }
}

async function main() {
  const { child, ready } = startServer();
  let browser;
  let page;
  try {
    const { url: base, key } = await ready;
    console.log(`== dashboard check (${mode}) against ${base}`);
    browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });

    // Signing in.
    const landing = await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname === "/login", `expected / without a cookie to lead to /login, got ${page.url()} (${landing?.status()})`);
    await shot(page, "login");
    await page.getByLabel("API key").fill(key);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${base}/`);
    await expectVisible(page, "Records over the last 24 hours", "the overview");

    // Every flow the API knows is on the overview.
    const flows = await (await fetch(`${base}/api/v1/flows`, { headers: { authorization: `Bearer ${key}` } })).json();
    expect(Array.isArray(flows) && flows.length > 0, `expected /api/v1/flows to list flows, got ${JSON.stringify(flows)}`);
    for (const flow of flows) {
      const row = page.getByRole("link", { name: flow.name, exact: true });
      expect((await row.count()) > 0, `expected flow "${flow.name}" on the overview`);
    }
    expect((await page.locator("svg[role=img] title").count()) > 0, "expected the records chart on the overview");
    await shot(page, "overview");

    // The inbox, then one dead letter.
    await page.getByRole("link", { name: "Dead letters", exact: true }).click();
    await page.waitForURL(`${base}/dead-letters`);
    const links = await openLetterLinks(page, base, mode === "demo" ? /not in ERP/ : /price_net/);
    await shot(page, "dead-letters");
    const letterPath = new URL(await links.first().getAttribute("href"), base).pathname;
    await links.first().click();
    await page.waitForURL(`${base}${letterPath}`);
    await shot(page, "dead-letter");

    // Fix the payload as a person would: read it, change the bad field, save and retry.
    const textarea = page.getByLabel(/^Payload/);
    const payload = JSON.parse(await textarea.inputValue());
    if (mode === "demo") {
      expect(Array.isArray(payload.lines) && payload.lines[0], `expected the order's payload to have lines[0], got ${JSON.stringify(payload)}`);
      payload.lines[0].sku = KNOWN_SKU;
    } else {
      expect("price_net" in payload, `expected the record's payload to have price_net, got ${JSON.stringify(payload)}`);
      payload.price_net = "3.20";
    }
    await textarea.fill(JSON.stringify(payload, null, 2));
    await shot(page, "edited");
    let flash = "";
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      await page.getByRole("button", { name: "Save and retry" }).click();
      await page.waitForURL((target) => target.pathname === letterPath && target.search.length > 0);
      flash = await flashText(page);
      // A scheduled run of the same flow holds it for a moment: that is worth another try.
      if (!flash.includes("could not run")) break;
      await page.waitForTimeout(1_000);
    }
    await shot(page, "retried");
    expect(flash.includes("was delivered and is resolved"), `expected "was delivered and is resolved" after Save and retry, got "${flash}"`);
    await expectVisible(page, "resolved", "the dead letter's page");

    // The inbox no longer lists it as open.
    await page.goto(`${base}/dead-letters`);
    const stillOpen = await page.locator(`a[href="${letterPath}"]`).count();
    expect(stillOpen === 0, `expected ${letterPath} gone from the open dead letters`);
    await shot(page, "dead-letters-after");

    // The webhook deliveries: the page and its filter answer (the demo's shop sends orders;
    // the serve mode has no webhooks, so the page may be empty there).
    await page.getByRole("link", { name: "Deliveries", exact: true }).click();
    await page.waitForURL(`${base}/deliveries`);
    await expectVisible(page, "Webhooks accepted from the systems", "the deliveries page");
    await shot(page, "deliveries");
    await page.getByLabel("Outcome").selectOption("unusable");
    await page.getByRole("button", { name: "Show" }).click();
    await page.waitForURL((target) => target.pathname === "/deliveries" && target.search.includes("outcome=unusable"));
    await expectVisible(page, "Webhooks accepted from the systems", "the filtered deliveries page");

    // The other pages, for the eye: connections (with a test) and a run with a record.
    await page.getByRole("link", { name: "Connections", exact: true }).click();
    await page.getByRole("button", { name: /^Test connection / }).first().click();
    await page.waitForURL((target) => target.pathname === "/connections" && target.search.length > 0);
    expect((await flashText(page)).startsWith("✓ Test of") || (await flashText(page)).startsWith("⚠ Test of"), `expected a test result on the connections page, got "${await flashText(page)}"`);
    await shot(page, "connections");

    // The Keys page (the check signs in with an admin key): make a key, read it once, see it
    // answer the API, revoke it, see it refused.
    await page.getByRole("link", { name: "Keys", exact: true }).click();
    await page.waitForURL(`${base}/keys`);
    await page.getByLabel("Name", { exact: true }).fill("browser-check");
    await page.getByLabel("Scope", { exact: true }).selectOption("read");
    await page.getByLabel("Expires after (days)", { exact: true }).fill("1");
    await page.getByRole("button", { name: "Make key", exact: true }).click();
    await page.waitForURL(`${base}/keys`);
    const made = ((await page.locator("#new-key-secret").textContent()) ?? "").trim();
    expect(made.startsWith("tiltas_"), `expected the new key shown once on the Keys page, got "${made}"`);
    const madeAnswer = await fetch(`${base}/api/v1/flows`, { headers: { authorization: `Bearer ${made}` } });
    expect(madeAnswer.status === 200, `expected the key made on the Keys page to answer the API, got ${madeAnswer.status}`);
    await shot(page, "keys-made");
    await page.getByRole("button", { name: /^Revoke key browser-check / }).click();
    await page.waitForURL((target) => target.pathname === "/keys" && target.search.includes("done="));
    expect((await flashText(page)).includes("is revoked"), `expected "is revoked" after Revoke, got "${await flashText(page)}"`);
    const revokedAnswer = await fetch(`${base}/api/v1/flows`, { headers: { authorization: `Bearer ${made}` } });
    expect(revokedAnswer.status === 401, `expected the revoked key refused with 401, got ${revokedAnswer.status}`);
    await shot(page, "keys-revoked");
    await page.goto(`${base}/`);
    const runLink = page.locator('a[href^="/runs/"]').first();
    if ((await runLink.count()) > 0) {
      await runLink.click();
      await expectVisible(page, "Records it touched", "a run page");
      await shot(page, "run");
      const compare = page.getByRole("link", { name: /^Source and sent payloads/ }).first();
      if ((await compare.count()) > 0) {
        await compare.click();
        await expectVisible(page, "Source and sent, side by side", "a record page");
        await shot(page, "record");
      }
    }
    console.log(`dashboard check (${mode}): passed`);
  } catch (error) {
    // What the browser showed when the expectation failed, for the person reading the log.
    await page?.screenshot({ path: path.join(screenshots, `failed-${mode}.png`), fullPage: true }).catch(() => {});
    throw error;
  } finally {
    await browser?.close();
    child.kill("SIGTERM");
  }
}

main().catch((error) => {
  console.error(`dashboard check (${mode}) FAILED: ${error instanceof Expectation ? error.message : error.stack ?? error}`);
  process.exit(1);
});
