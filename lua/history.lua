-- history.lua: channel history in SQLite, replayed to whoever joins.
--
--   linecast lua/history.lua
--   LINECAST_HISTORY_DB=/var/lib/linecast/history.db linecast lua/history.lua
--
-- Every message published to a channel (not private @NAME messages) is
-- kept in an SQLite database. A connection that /joins a channel first
-- gets its last messages, then its +JOIN reply, then live traffic, with
-- nothing missed and nothing shown twice in between:
--
--   > /join news
--   < * history news 3                 COUNT replayed lines follow
--   < news <alice> first
--   < news <bob> second
--   < news <server> third
--   < +JOIN news 4
--   < news <alice> a live message
--
-- The replayed lines look exactly like live ones ("CHANNEL <SENDER> TEXT",
-- control bytes shown as "?" as the core shows them); the "* history"
-- line before them says how many come. No line at all for a channel
-- without history, and none when the connection is a member already
-- (it has seen that traffic live).
--
-- Options (environment variables, read at start and on SIGHUP):
--   LINECAST_HISTORY_DB       the database file (default linecast-history.db
--                             in the server's working directory)
--   LINECAST_HISTORY_REPLAY   messages replayed on join (default 20)
--   LINECAST_HISTORY_KEEP     messages kept per channel in the database
--                             (default 1000; older ones are deleted)
--   LINECAST_HISTORY_CONNECT  "1": also replay the default channel's history
--                             on connect, before +HELLO (default off, so
--                             that +HELLO stays the first line)
--
-- List it after the scripts whose publish handlers may drop or rewrite
-- messages (filter.lua...), so that it keeps what was delivered.
--
-- How it works. The main state never touches the database; only worker
-- functions do, on the thread pool (lc.worker), each worker thread with its
-- own connection opened on first use.
--   * A publish handler gives each message a number, keeps it in a ring of
--     the channel's last REPLAY messages in memory, and appends it to a
--     pending batch. Every FLUSH_SECONDS (or once BATCH_MAX messages wait)
--     one lc.defer job writes the whole batch in one transaction, so a busy
--     channel costs one job per flush, not one per message. One write is in
--     flight at a time.
--   * On the first join of a channel, lc.blocking("history_load") reads its
--     last rows; they are merged with the ring (which holds what was
--     published meanwhile, written yet or not) by their numbers, and the
--     ring is then the channel's history. Later joins need no job.
--   * The join handler sends the replay with conn:send and returns; the core
--     joins the channel and sends +JOIN in the same loop turn, so no message
--     can fall between the replay and the live traffic.
--   * A message is numbered (run, n): run is a number the database hands
--     out to each start (and reload) of this script, n counts the messages
--     of that run. So numbers grow across restarts, and the rows a run
--     wrote are told apart from its ring even while a write is in flight.
--
--   * What the main state holds is bounded in bytes: HOLD_BYTES (an eighth
--     of --script-memory, at most 8 MiB) for the messages waiting for their
--     write, and as much for the rings (past it, the ring a message goes to
--     gives up its oldest entries first: a flooded channel replays fewer).
--     When a flood comes faster than the writes drain, messages are not
--     recorded until half of what waits is written (they are still
--     delivered: the publish handler never fails for want of room); that is
--     logged once when it starts and once, with the count, when recording
--     resumes. A message over a quarter of HOLD_BYTES is never recorded.
--
-- Limits: a reload (SIGHUP) forgets the messages still waiting for their
-- write (at most FLUSH_SECONDS' worth; they were delivered live); a
-- shutdown writes them. Under a flood past what the database takes, some
-- messages are not recorded (see above). One server per database file.

local lc = require "linecast"

local DB_PATH = os.getenv("LINECAST_HISTORY_DB") or "linecast-history.db"
local REPLAY = math.tointeger(tonumber(os.getenv("LINECAST_HISTORY_REPLAY")))
    or 20
local KEEP = math.tointeger(tonumber(os.getenv("LINECAST_HISTORY_KEEP")))
    or 1000
local ON_CONNECT = os.getenv("LINECAST_HISTORY_CONNECT") == "1"

local FLUSH_SECONDS = 0.2	-- how often the pending batch is written
local BATCH_MAX = 500		-- messages per write job
local PENDING_MAX = 20000	-- messages waiting for a write (oldest go)
local RETRY_SECONDS = 5		-- after a failed write, before trying again
local RINGS_MAX = 1000		-- channels kept in memory (idle ones go)
local BUSY_MS = 5000		-- SQLite busy timeout
local ENTRY_BYTES = 160		-- what a recorded message costs beyond its text
-- Bytes held for the pending batch, and for the rings (each).
local HOLD_BYTES = math.min(8 << 20, (lc.config.script_memory << 20) // 8)

if KEEP < REPLAY then
	KEEP = REPLAY
end

--
-- Worker side: the database. These functions run on pool threads only.
--

local env, db			-- this worker state's connection, opened once

-- Runs a statement; closes the cursor of a query. Raises on an error.
local function exec(sql)
	local r, err = db:execute(sql)
	if not r then
		error("history.lua: " .. err, 0)
	end
	if type(r) == "userdata" then
		r:close()
	end
end

-- Runs a query. Returns its rows, each a list of column values.
local function query(sql)
	local cur, err = db:execute(sql)
	if not cur then
		error("history.lua: " .. err, 0)
	end
	local rows = {}
	local row = cur:fetch({}, "n")
	while row do
		rows[#rows + 1] = row
		row = cur:fetch({}, "n")
	end
	cur:close()
	return rows
end

-- A string as an SQL literal. Text is any bytes (NUL too), so it goes
-- as a blob literal X'...' that no byte can break out of.
local HEX = {}
for i = 0, 255 do
	HEX[string.char(i)] = ("%02X"):format(i)
end
local function blob(s)
	return "X'" .. s:gsub(".", HEX) .. "'"
end

-- A name (channel or sender: no NUL can be in one) as an SQL literal.
local function str(s)
	return "'" .. s:gsub("'", "''") .. "'"
end

-- Opens the database on first use in this worker state.
local function open()
	if db then
		return
	end
	local driver = require "luasql.sqlite3"
	env = env or assert(driver.sqlite3())
	local conn, err = env:connect(DB_PATH)
	if not conn then
		error(("history.lua: cannot open %s: %s"):format(DB_PATH, err), 0)
	end
	db = conn
	local ok, why = pcall(function()
		exec("PRAGMA busy_timeout=" .. BUSY_MS)
		exec("PRAGMA journal_mode=WAL")
		exec([[CREATE TABLE IF NOT EXISTS history (
			channel TEXT NOT NULL,
			run INTEGER NOT NULL,
			n INTEGER NOT NULL,
			sender TEXT NOT NULL,
			text BLOB NOT NULL,
			time INTEGER NOT NULL,
			PRIMARY KEY (channel, run, n)) WITHOUT ROWID]])
		exec([[CREATE TABLE IF NOT EXISTS runs (
			id INTEGER PRIMARY KEY AUTOINCREMENT,
			started INTEGER NOT NULL)]])
	end)
	if not ok then
		db:close()
		db = nil
		error(why, 0)
	end
end

-- Returns a new run number.
local function new_run()
	exec("INSERT INTO runs (started) VALUES (" .. os.time() .. ")")
	return math.tointeger(query("SELECT last_insert_rowid()")[1][1])
end

-- history_init(): a new run number for the main state's messages.
lc.worker("history_init", function()
	open()
	return new_run()
end)

-- history_write(run, rows): stores a batch {n, channel, sender, text, time}
-- in one transaction and trims the channels it touched to KEEP rows. A
-- batch written twice (a retry) is stored once. Without a run number (at
-- shutdown, before the first one came), a new one is used. Returns the
-- run number.
lc.worker("history_write", function(run, rows)
	open()
	local touched = {}
	exec("BEGIN IMMEDIATE")
	local ok, err = pcall(function()
		run = run or new_run()
		for _, r in ipairs(rows) do
			exec(("INSERT OR IGNORE INTO history VALUES " ..
			    "(%s, %d, %d, %s, %s, %d)"):format(str(r[2]), run,
			    r[1], str(r[3]), blob(r[4]), r[5]))
			touched[r[2]] = true
		end
		for channel in pairs(touched) do
			local ch = str(channel)
			exec(("DELETE FROM history WHERE channel = %s AND " ..
			    "(run, n) < (SELECT run, n FROM history WHERE " ..
			    "channel = %s ORDER BY run DESC, n DESC LIMIT 1 " ..
			    "OFFSET %d)"):format(ch, ch, KEEP - 1))
		end
		exec("COMMIT")
	end)
	if not ok then
		pcall(exec, "ROLLBACK")
		error(err, 0)
	end
	return run
end)

-- history_load(channel, limit): the channel's last rows, oldest first,
-- each {run, n, sender, text}.
lc.worker("history_load", function(channel, limit)
	open()
	local rows = query(("SELECT run, n, sender, text FROM history " ..
	    "WHERE channel = %s ORDER BY run DESC, n DESC LIMIT %d")
	    :format(str(channel), limit))
	local out = {}
	for i = #rows, 1, -1 do
		local r = rows[i]
		out[#out + 1] = { math.tointeger(r[1]), math.tointeger(r[2]),
		    r[3], r[4] }
	end
	return out
end)

if lc.is_worker then
	return
end

--
-- Main state: rings, the pending batch, replay.
--

local run			-- this state's run number, once known
local initializing = false
local last_n = 0		-- the last message's number in this run
local batch = {}		-- {n, channel, sender, text, time}, in order
local writing = false		-- a history_write job is in flight
local written_n = 0		-- every message up to this n is written
local retry_at = 0		-- no job before this time (os.time) after a failure
local pending_bytes = 0		-- held by batch and the write in flight
local ring_bytes = 0		-- held by the rings
local skipped = 0		-- messages not recorded since recording stopped
local too_big = 0		-- messages never recorded for their size

-- channel -> {first, last, [i] = {sender, text, n}, loaded, loading, n,
-- used} where entries first..last are the channel's last messages (at most
-- REPLAY; n is set on those of this run), n is the number of its last
-- message of this run, loaded says the database's rows have been merged
-- in, loading counts joins waiting for them.
local rings = {}
local nrings = 0
local clock = 0			-- ticks, for "least recently used"

-- Returns a channel's ring, made empty if it has none.
local function ring_of(channel)
	local ring = rings[channel]
	if not ring then
		ring = { first = 1, last = 0, loaded = false, loading = 0 }
		rings[channel] = ring
		nrings = nrings + 1
	end
	clock = clock + 1
	ring.used = clock
	return ring
end

-- What an entry {sender, text, ...} costs, for the bounds.
local function entry_bytes(e)
	return #e[1] + #e[2] + ENTRY_BYTES
end

-- Appends an entry to a ring, dropping the oldest past REPLAY, and more of
-- its oldest while the rings hold more than HOLD_BYTES.
local function ring_push(ring, entry)
	ring.last = ring.last + 1
	ring[ring.last] = entry
	ring_bytes = ring_bytes + entry_bytes(entry)
	while ring.first < ring.last and (ring.last - ring.first + 1 > REPLAY or
	    ring_bytes > HOLD_BYTES) do
		ring_bytes = ring_bytes - entry_bytes(ring[ring.first])
		ring[ring.first] = nil
		ring.first = ring.first + 1
	end
end

-- Forgets a ring and what it held.
local function ring_forget(channel)
	local ring = rings[channel]
	for i = ring.first, ring.last do
		ring_bytes = ring_bytes - entry_bytes(ring[i])
	end
	rings[channel] = nil
	nrings = nrings - 1
end

-- Forgets rings, least recently used first, while there are too many or
-- they hold too much: only those whose messages are all written, that
-- nobody is loading and that have no members (a join reloads them from
-- the database).
local function rings_trim()
	if nrings <= RINGS_MAX and ring_bytes <= HOLD_BYTES then
		return
	end
	local idle = {}
	for channel, ring in pairs(rings) do
		if ring.loading == 0 and (ring.n or 0) <= written_n and
		    #lc.members(channel) == 0 then
			idle[#idle + 1] = { channel, ring.used }
		end
	end
	table.sort(idle, function(a, b) return a[2] < b[2] end)
	for i = 1, #idle do
		if nrings <= RINGS_MAX and ring_bytes <= HOLD_BYTES then
			break
		end
		ring_forget(idle[i][1])
	end
end

-- Returns the bytes of a batch's rows.
local function rows_bytes(rows, from, to)
	local n = 0
	for i = from, to do
		n = n + #rows[i][3] + #rows[i][4] + ENTRY_BYTES
	end
	return n
end

-- The first line of an error message (a worker's carries a traceback).
local function first_line(err)
	return (tostring(err):match("^[^\n]*"))
end

local flush, resume_check

-- Writes the oldest BATCH_MAX pending messages in one job, unless a write
-- is in flight or the run number is not known yet. A failed write goes
-- back to the front of the batch and is tried again on the next tick.
function flush()
	if writing or run == nil or #batch == 0 then
		return
	end
	local rows = table.move(batch, 1, math.min(#batch, BATCH_MAX), 1, {})
	table.move(batch, #rows + 1, #batch + #rows, 1)
	writing = true
	lc.defer("history_write", run, rows, function(ok, err)
		writing = false
		if not ok then
			lc.log("warn", "history.lua: write failed, will retry:",
			    first_line(err))
			table.move(batch, 1, #batch, #rows + 1)
			table.move(rows, 1, #rows, 1, batch)
			retry_at = os.time() + RETRY_SECONDS
			return
		end
		written_n = rows[#rows][1]
		pending_bytes = pending_bytes - rows_bytes(rows, 1, #rows)
		resume_check()
		rings_trim()
		if #batch >= BATCH_MAX then
			flush()
		end
	end)
end

-- Every FLUSH_SECONDS: get a run number if there is none yet, then write.
-- (Not at load time: the worker threads start after the scripts load.)
local function tick()
	if os.time() < retry_at then
		return
	elseif run ~= nil then
		flush()
	elseif not initializing then
		initializing = true
		lc.defer("history_init", function(ok, r)
			initializing = false
			if ok then
				run = r
				flush()
			else
				lc.log("warn", "history.lua: no run number yet:",
				    first_line(r))
				retry_at = os.time() + RETRY_SECONDS
			end
		end)
	end
end
lc.every(FLUSH_SECONDS, tick)

-- Ends a stop of recording once the writes have drained half of what
-- waited, and says how many messages it cost.
function resume_check()
	if skipped == 0 or pending_bytes > HOLD_BYTES // 2 then
		return
	end
	lc.log("warn", ("history.lua: recording again, %d message%s not " ..
	    "recorded"):format(skipped, skipped == 1 and " was" or "s were"))
	skipped = 0
end

-- Returns true if a message of size bytes finds room: else it is not
-- recorded, which is logged once until recording resumes.
local function room_for(size)
	resume_check()
	if size > HOLD_BYTES // 4 then
		if too_big == 0 then
			lc.log("warn", ("history.lua: messages over %d KiB " ..
			    "are not recorded"):format(HOLD_BYTES >> 12))
		end
		too_big = too_big + 1
		return false
	end
	if skipped == 0 and pending_bytes + size <= HOLD_BYTES then
		return true
	end
	if skipped == 0 then
		lc.log("warn", ("history.lua: cannot keep up (%d KiB wait " ..
		    "for the database), messages are not recorded until " ..
		    "the writes catch up"):format(pending_bytes >> 10))
	end
	skipped = skipped + 1
	return false
end

-- Records every channel message: in its ring and in the pending batch,
-- if they have room.
lc.on("publish", function(msg)
	if msg.channel:sub(1, 1) == "@" then
		return
	end
	local size = #msg.sender + #msg.text + ENTRY_BYTES
	if not room_for(size) then
		return
	end
	last_n = last_n + 1
	local ring = ring_of(msg.channel)
	ring_push(ring, { msg.sender, msg.text, last_n })
	ring.n = last_n
	batch[#batch + 1] = { last_n, msg.channel, msg.sender, msg.text,
	    os.time() }
	pending_bytes = pending_bytes + size
	if #batch > PENDING_MAX then
		lc.log("warn", "history.lua: too many unwritten messages, the "
		    .. "oldest " .. BATCH_MAX .. " are dropped")
		pending_bytes = pending_bytes - rows_bytes(batch, 1, BATCH_MAX)
		table.move(batch, BATCH_MAX + 1, #batch + BATCH_MAX, 1)
	end
	if #batch >= BATCH_MAX and os.time() >= retry_at then
		flush()
	end
end)

-- Merges the database's rows (oldest first) into a ring not loaded yet,
-- which holds only messages of this run, the channel's latest: the rows of
-- this run from its first one on are those same messages; every other row
-- is older than anything in the ring.
local function ring_merge(ring, rows)
	local merged = {}
	local first_n = ring.last >= ring.first and ring[ring.first][3]
	for _, r in ipairs(rows) do
		if r[1] ~= run or not first_n or r[2] < first_n then
			merged[#merged + 1] = { r[3], r[4] }
		end
	end
	for i = ring.first, ring.last do
		merged[#merged + 1] = ring[i]
	end
	for i = ring.first, ring.last do
		ring[i] = nil
	end
	ring.first, ring.last = 1, 0
	for i = math.max(1, #merged - REPLAY + 1), #merged do
		ring_push(ring, merged[i])
	end
	ring.loaded = true
end

-- Text as the core shows it to subscribers: control bytes become "?"
-- (unless --allow-control); a line break never goes through.
local function shown(text)
	if lc.config.allow_control then
		return (text:gsub("[\r\n]", "?"))
	end
	return (text:gsub("[\0-\8\10-\31\127]", "?"))
end

-- Loads a channel's rows from the database unless they are merged in
-- already. Waits for a worker; a failure leaves the ring as it is (this
-- run's messages) and is tried again on the next join.
local function load(channel, ring)
	if ring.loaded then
		return
	end
	ring.loading = ring.loading + 1
	local ok, rows = pcall(lc.blocking, "history_load", channel, REPLAY)
	ring.loading = ring.loading - 1
	if not ok then
		lc.log("warn", "history.lua: cannot load", channel .. ":",
		    first_line(rows))
	elseif not ring.loaded then
		ring_merge(ring, rows)
	end
end

-- Sends a channel's history to a connection: "* history CHANNEL COUNT",
-- then COUNT message lines.
local function replay(conn, channel)
	local ring = ring_of(channel)
	load(channel, ring)
	local count = ring.last - ring.first + 1
	if count == 0 then
		return
	end
	conn:send(("* history %s %d"):format(channel, count))
	for i = ring.first, ring.last do
		local e = ring[i]
		conn:send(("%s <%s> %s"):format(channel, e[1], shown(e[2])))
	end
end

-- Returns true if a connection is a member of a channel.
local function is_member(conn, channel)
	for _, ch in ipairs(conn:channels() or {}) do
		if ch == channel then
			return true
		end
	end
	return false
end

-- Replays before the join: the core joins and sends +JOIN as soon as the
-- handlers return, in the same loop turn.
lc.on("join", function(conn, channel)
	if not is_member(conn, channel) then
		replay(conn, channel)
	end
end)

-- The default channel is joined after the connect handlers, just as
-- after the join handlers, so its replay comes right before +HELLO.
if ON_CONNECT and lc.config.default_channel ~= "" then
	lc.on("connect", function(conn)
		replay(conn, lc.config.default_channel)
	end)
end

-- Writes what is still pending (the server waits for the jobs, up to
-- --shutdown-timeout). No join can come any more, so without a run number
-- yet one job takes a new one itself and writes all (a few messages: the
-- first tick has not even come).
lc.on("shutdown", function()
	while #batch > 0 do
		local rows = batch
		if run ~= nil and #batch > BATCH_MAX then
			rows = table.move(batch, 1, BATCH_MAX, 1, {})
			table.move(batch, BATCH_MAX + 1, #batch + BATCH_MAX, 1)
		else
			batch = {}
		end
		lc.defer("history_write", run, rows, function(ok, err)
			if not ok then
				lc.log("warn", "history.lua: " .. #rows ..
				    " messages not written:", first_line(err))
			end
		end)
	end
end)
