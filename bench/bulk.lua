-- bulk.lua - wrk script: POST bulk changes of 20 tickets' priority, as
-- staff, each request on the next 20 tickets of a list.
--
--   wrk ... -s bulk.lua URL -- TARGETS AGENT_TOKEN
--
-- TARGETS has one ticket uuid first on each line (bench/run.sh's
-- post-targets).  The list is cut into blocks of 20; each request takes
-- the next block, each thread starting half the blocks after the one
-- before it, so that the requests in flight (one a connection) name
-- different tickets and wait on no one's ticket locks.  Every request
-- changes all 20 (after the first change of a ticket that had the
-- priority already): a thread sets its own two priorities, one on even
-- rounds over the blocks and the other on odd rounds ("high"/"low" for
-- the first thread, "urgent"/"normal" for the second), so a block
-- always last had one the request does not set.  URL's path is the
-- bulk endpoint.

local uuids = {}
local blocks = {}
local headers
local path
local i = 0
local tid = 0
local counter = 0
local pairs_by_thread = { { "high", "low" }, { "urgent", "normal" } }
local mine

function setup(thread)
	counter = counter + 1
	thread:set("tid", counter - 1)
end

function init(args)
	for line in io.lines(args[1]) do
		local uuid = line:match("^(%S+)")
		if uuid then
			uuids[#uuids + 1] = uuid
		end
	end
	for b = 0, math.floor(#uuids / 20) - 1 do
		local q = {}
		for k = 1, 20 do
			q[k] = '"' .. uuids[b * 20 + k] .. '"'
		end
		blocks[#blocks + 1] = "[" .. table.concat(q, ",") .. "]"
	end
	if #blocks < 2 then
		error("bulk.lua: fewer than 40 tickets in " .. args[1])
	end
	headers = {
		["Authorization"] = "Bearer " .. args[2],
		["Content-Type"] = "application/json",
	}
	path = wrk.path
	tid = tonumber(wrk.thread:get("tid")) or 0
	mine = pairs_by_thread[tid % 2 + 1]
	i = (tid * math.floor(#blocks / 2)) % #blocks
end

function request()
	local n = #blocks
	local round = math.floor(i / n) % 2
	local body = '{"uuids":' .. blocks[(i % n) + 1] ..
	    ',"priority":"' .. mine[round + 1] .. '"}'
	i = (i + 1) % (2 * n)
	return wrk.format("POST", path, headers, body)
end
