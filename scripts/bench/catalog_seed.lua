-- SPDX-License-Identifier: Apache-2.0
-- The seeding side of scripts/bench/bench_catalog.sh, run inside the binary:
--   agentlens run scripts/bench/catalog_seed.lua [ENTRIES [CAPS [BATCH]]]
-- against the configured database (AGENTLENS_DATA_DIR / AGENTLENS_DB_*). Inserts ENTRIES
-- (default 10,000) A2A catalog entries with CAPS (default 10) skills each through the store
-- (require("agentlens.store.catalog").insert: validation, search index, categories), BATCH
-- (default 500) entries per transaction. Names, descriptions, tags and skills are drawn
-- deterministically from a vocabulary of business domains, so a search term matches from a few
-- dozen to a few thousand entries. Prints one line:
--   seed entries=10000 capabilities=100000 seconds=12.345
--
-- The store's insert opens its own db.tx and transactions do not nest: inside a batch, db.tx is
-- replaced for the store by a pass-through (same failure shape), so one COMMIT covers BATCH
-- entries. Only this script's process is affected. On PostgreSQL the catalog tables are
-- ANALYZEd at the end (see below).
local db = require("agentlens.db")
local time = require("agentlens.time")
local catalog = require("agentlens.store.catalog")

local n_entries = tonumber(arg and arg[1]) or 10000
local n_caps = tonumber(arg and arg[2]) or 10
local batch = tonumber(arg and arg[3]) or 500

-- Deterministic pseudo-random numbers (LCG; the same catalog every run).
local seed = 20260412
local function rnd(n)
	seed = (seed * 1103515245 + 12345) % 2147483648
	return math.floor(seed / 65536) % n + 1
end
local function pick(list)
	return list[rnd(#list)]
end

-- domain = {name, tags, skills = {{verb phrase, description}}}
local DOMAINS = {
	{ "Translation", { "translation", "nlp", "language" }, {
		{ "Translate document", "Translates documents between 40 languages keeping layout and formatting." },
		{ "Detect language", "Detects the language and script of a text snippet." },
		{ "Manage glossary", "Adds and removes customer glossary terms used during translation." },
		{ "Localize strings", "Localizes user interface strings with plural and gender rules." } } },
	{ "Invoice", { "finance", "accounting", "invoice" }, {
		{ "Extract invoice fields", "Extracts vendor, totals, tax and line items from scanned invoices." },
		{ "Match purchase order", "Matches invoices against purchase orders and goods receipts." },
		{ "Approve invoice", "Routes an invoice through the approval workflow of the cost center." } } },
	{ "Weather", { "weather", "forecast", "geo" }, {
		{ "Forecast weather", "Hourly weather forecast for a location for the next ten days." },
		{ "Severe weather alerts", "Lists active severe weather alerts and storm warnings for a region." },
		{ "Historical climate", "Returns historical temperature and precipitation statistics." } } },
	{ "Kubernetes", { "kubernetes", "devops", "cloud" }, {
		{ "Scale deployment", "Scales a Kubernetes deployment and waits for the rollout to finish." },
		{ "Diagnose pod", "Explains why a pod is crash looping from its events and logs." },
		{ "Audit cluster", "Audits cluster role bindings and network policies for risky settings." } } },
	{ "Summarization", { "nlp", "summarization", "documents" }, {
		{ "Summarize document", "Summarizes long documents into key points with citations." },
		{ "Summarize meeting", "Summarizes meeting transcripts into decisions and action items." },
		{ "Extract keywords", "Extracts keywords and named entities from a text." } } },
	{ "SQL Analytics", { "sql", "analytics", "data" }, {
		{ "Generate SQL", "Generates SQL queries from natural language questions over a warehouse schema." },
		{ "Explain query plan", "Explains a slow query plan and suggests indexes." },
		{ "Build dashboard", "Builds a dashboard of charts from saved analytics queries." } } },
	{ "PDF Tools", { "pdf", "documents", "ocr" }, {
		{ "Convert PDF", "Converts PDF files to Markdown, HTML or plain text." },
		{ "OCR scan", "Recognizes text in scanned images and PDF pages." },
		{ "Fill PDF form", "Fills PDF forms from structured data and flattens them." } } },
	{ "Calendar", { "calendar", "scheduling", "productivity" }, {
		{ "Schedule meeting", "Finds a free slot across attendees' calendars and sends invitations." },
		{ "Book room", "Books a meeting room with the requested equipment." },
		{ "Plan agenda", "Drafts an agenda from previous meeting notes." } } },
	{ "Fraud Detection", { "fraud", "risk", "finance" }, {
		{ "Score transaction", "Scores a card transaction for fraud risk in real time." },
		{ "Investigate alert", "Collects evidence for a fraud alert and drafts a case report." },
		{ "Check sanctions", "Screens names against sanctions and politically exposed persons lists." } } },
	{ "Payroll", { "payroll", "hr", "finance" }, {
		{ "Run payroll", "Computes gross to net pay, deductions and employer contributions." },
		{ "Explain payslip", "Explains the lines of a payslip to an employee." },
		{ "Track leave", "Tracks vacation and sick leave balances." } } },
	{ "Sentiment", { "sentiment", "nlp", "marketing" }, {
		{ "Analyze sentiment", "Classifies the sentiment and emotion of reviews and social posts." },
		{ "Monitor brand", "Monitors brand mentions across news and social media." } } },
	{ "Image Generation", { "image", "vision", "creative" }, {
		{ "Generate image", "Generates images from a text prompt in several styles." },
		{ "Remove background", "Removes the background of a product photo." },
		{ "Describe image", "Describes the content of an image for accessibility alt text." } } },
	{ "Route Planning", { "routing", "logistics", "geo" }, {
		{ "Plan route", "Plans delivery routes with time windows and vehicle capacities." },
		{ "Estimate arrival", "Estimates arrival times from live traffic." },
		{ "Geocode address", "Turns postal addresses into coordinates." } } },
	{ "Helpdesk", { "support", "ticket", "itsm" }, {
		{ "Triage ticket", "Classifies and prioritizes support tickets and assigns a queue." },
		{ "Draft reply", "Drafts a reply to a customer support ticket from the knowledge base." },
		{ "Reset password", "Guides a user through a self-service password reset." } } },
	{ "Compliance", { "compliance", "legal", "risk" }, {
		{ "Review contract", "Reviews a contract for risky clauses and missing terms." },
		{ "Map regulation", "Maps controls to GDPR, SOC 2 and ISO 27001 requirements." },
		{ "Collect evidence", "Collects audit evidence from cloud accounts." } } },
	{ "Genomics", { "genomics", "bioinformatics", "science" }, {
		{ "Align reads", "Aligns sequencing reads to a reference genome." },
		{ "Call variants", "Calls genomic variants and annotates their clinical significance." } } },
	{ "Customer Support", { "support", "crm", "customer" }, {
		{ "Lookup customer", "Finds a customer record with orders and open cases." },
		{ "Escalate case", "Escalates a customer case to a human agent with a summary." },
		{ "Measure satisfaction", "Sends a satisfaction survey and aggregates the scores." } } },
	{ "Inventory", { "inventory", "supply-chain", "retail" }, {
		{ "Check stock", "Checks stock levels across warehouses and stores." },
		{ "Forecast demand", "Forecasts product demand from sales history and promotions." },
		{ "Reorder items", "Creates purchase orders when stock falls below the reorder point." } } },
	{ "Shipping", { "shipping", "logistics", "retail" }, {
		{ "Create shipment", "Creates a shipment and prints the carrier label." },
		{ "Track parcel", "Tracks a parcel across carriers and predicts delays." },
		{ "Compare rates", "Compares shipping rates across carriers." } } },
	{ "Security Audit", { "security", "audit", "devops" }, {
		{ "Scan dependencies", "Scans dependencies for known vulnerabilities and licenses." },
		{ "Review pull request", "Reviews a pull request for security issues." },
		{ "Rotate secrets", "Rotates API keys and database credentials on a schedule." } } },
	{ "Recipe", { "food", "recipes", "lifestyle" }, {
		{ "Plan meals", "Plans weekly meals for dietary restrictions and budget." },
		{ "Convert units", "Converts recipe quantities between metric and imperial units." } } },
	{ "Travel", { "travel", "booking", "lifestyle" }, {
		{ "Search flights", "Searches flights with fares, layovers and baggage rules." },
		{ "Book hotel", "Books hotels near a venue within a travel policy." },
		{ "Build itinerary", "Builds a day by day travel itinerary." } } },
	{ "Code Assistant", { "code", "developer", "devops" }, {
		{ "Generate tests", "Generates unit tests for a function in Python, Go or TypeScript." },
		{ "Explain code", "Explains what a piece of code does and its complexity." },
		{ "Refactor code", "Refactors code to remove duplication while keeping behaviour." } } },
	{ "Email", { "email", "productivity", "communication" }, {
		{ "Draft email", "Drafts an email in the user's tone from bullet points." },
		{ "Sort inbox", "Sorts the inbox into priority, newsletters and follow-ups." } } },
	{ "Energy", { "energy", "iot", "sustainability" }, {
		{ "Read meters", "Reads smart meter data and detects anomalies in consumption." },
		{ "Estimate emissions", "Estimates carbon emissions from energy and travel data." } } },
	{ "Healthcare", { "healthcare", "clinical", "fhir" }, {
		{ "Summarize chart", "Summarizes a patient chart from FHIR resources." },
		{ "Code diagnosis", "Suggests ICD-10 codes for a clinical note." } } },
	{ "Legal Research", { "legal", "research", "documents" }, {
		{ "Find precedent", "Finds case law precedents for a legal question." },
		{ "Cite statute", "Cites the statutes relevant to a fact pattern." } } },
	{ "Recruiting", { "hr", "recruiting", "talent" }, {
		{ "Screen resume", "Screens resumes against a job description." },
		{ "Schedule interview", "Schedules interviews with the hiring panel." } } },
}

local ADJECTIVES = { "Acme", "Nimbus", "Quantum", "Blue", "Northwind", "Contoso", "Fabrikam", "Globex",
	"Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent", "Tyrell", "Cyberdyne", "Aperture",
	"Wonka", "Gringotts" }
local SUFFIXES = { "Agent", "Assistant", "Copilot", "Service", "Bot", "Worker", "Helper", "Desk" }
local TEAMS = { "platform", "data", "finance-ops", "support", "security", "ml", "growth", "infra", "legal",
	"research" }
local REGIONS = { "eu-west", "us-east", "ap-south", "eu-central", "us-west" }

local function entry(i)
	local d = DOMAINS[(i - 1) % #DOMAINS + 1]
	local org = pick(ADJECTIVES)
	local name = ("%s %s %s %05d"):format(org, d[1], pick(SUFFIXES), i)
	local tags = { d[2][1], d[2][2], d[2][3], pick(REGIONS) }
	local caps, used = {}, {}
	-- The domain's own skills first, then skills borrowed from other domains.
	for k = 1, n_caps do
		local dom = (k <= #d[3]) and d or pick(DOMAINS)
		local s = (k <= #d[3]) and d[3][k] or pick(dom[3])
		local cname = s[1]
		if used[cname] then
			cname = ("%s (%d)"):format(cname, k)
		end
		used[cname] = true
		caps[k] = {
			kind = "a2a.skill",
			name = cname,
			description = s[2],
			properties = { id = ("skill-%d"):format(k), tags = { dom[2][1], dom[2][2] } },
		}
	end
	local slug = ("%s-%s-%05d"):format(org, d[1], i):lower():gsub("[^%w]+", "-")
	return {
		protocol = "a2a",
		endpoint = ("https://%s.agents.example.com/a2a/v1"):format(slug),
		display_name = name,
		description = ("%s by %s: %s %s"):format(name, org, d[3][1][2], pick(d[3])[2]),
		version = ("%d.%d.%d"):format(rnd(5), rnd(20) - 1, rnd(10) - 1),
		spec_version = "1.0",
		provider = { organization = org .. " Corp", team = pick(TEAMS), url = ("https://%s.example.com"):format(
			org:lower()) },
		categories = tags,
		source = "push",
		state = "registered",
		capabilities = caps,
	}
end

local real_tx = db.tx
-- Inside a batch: run the store's transaction body directly (the same failure shape).
local function pass_through(fn, ...)
	return fn(...)
end

local t0 = time.monotonic()
local done, caps_total = 0, 0
while done < n_entries do
	local last = math.min(done + batch, n_entries)
	local ok, err, code = real_tx(function()
		db.tx = pass_through
		for i = done + 1, last do
			local e = entry(i)
			local id, msg, c = catalog.insert(e)
			if not id then
				db.tx = real_tx
				return nil, ("entry %d: %s"):format(i, tostring(msg)), c
			end
			caps_total = caps_total + #e.capabilities
		end
		db.tx = real_tx
		return true
	end)
	db.tx = real_tx
	if not ok then
		error(("catalog_seed.lua: %s (%s)"):format(tostring(err), tostring(code)))
	end
	done = last
end
-- PostgreSQL: the statistics autovacuum would gather within a minute or so of a bulk load (the
-- benchmark measures a catalog in its steady state, not the planner without statistics).
if db.dialect() == "postgres" then
	for _, t in ipairs({ "catalog_entries", "catalog_capabilities", "catalog_categories", "catalog_raw_cards" }) do
		assert(db.exec("ANALYZE " .. t))
	end
end
local rows = db.query("SELECT (SELECT count(*) FROM catalog_entries) AS e, (SELECT count(*) FROM catalog_capabilities) AS c")
print(("seed entries=%d capabilities=%d seconds=%.3f"):format(rows[1].e, rows[1].c, time.monotonic() - t0))
