-- post.lua - wrk script: POST a message to many tickets in turn, so the
-- posts do not all queue on one ticket's write lock.
--
--   wrk ... -s post.lua URL -- TARGETS AGENT_TOKEN [PATH]
--
-- TARGETS has one "ticket-uuid owner-token" a line.  Requests go through
-- the tickets in order, each thread starting at its own offset; on even
-- rounds over the list the owner writes, on odd rounds the agent answers,
-- as in a chat (each post moves the ticket's status).  URL's path is not
-- used; the host is.  With PATH every post goes there instead (the same
-- bodies and headers; bench/run.sh's floor, hello --commit).

local targets = {}
local agent
local i = 0
local n = 0
local tid = 0
local nthreads = 1
local counter = 0
local path

function setup(thread)
	counter = counter + 1
	thread:set("tid", counter - 1)
end

function init(args)
	for line in io.lines(args[1]) do
		local uuid, token = line:match("^(%S+)%s+(%S+)$")
		if uuid then
			targets[#targets + 1] = { uuid, token }
		end
	end
	agent = args[2]
	path = args[3]
	n = #targets
	if n == 0 then
		error("post.lua: no targets in " .. args[1])
	end
	tid = tonumber(wrk.thread:get("tid")) or 0
	-- Threads start half a list apart (two threads in the benchmark).
	i = (tid * math.floor(n / 2)) % (2 * n)
end

function request()
	local t = targets[(i % n) + 1]
	local round = math.floor(i / n) % 2
	local token = round == 0 and t[2] or agent
	i = (i + 1) % (2 * n)
	local body = string.format(
	    '{"content":"Benchmark message %d from thread %d."}', i, tid)
	return wrk.format("POST",
	    path or "/api/support/tickets/" .. t[1] .. "/messages/",
	    { ["Authorization"] = "Bearer " .. token,
	      ["Content-Type"] = "application/json" }, body)
end
