-- count.lua - wrk script: GET the given paths in turn; after LIMIT
-- responses stop the thread and create the file DONE.  wrk itself only
-- ends on time (-d), so run.sh waits for DONE and then sends wrk SIGINT,
-- which ends the run at once; -d stays the upper bound.  Headers come from
-- wrk's -H options.  For one thread (-t1).
--
--   wrk -t1 ... -s count.lua URL -- DONE LIMIT PATH [PATH...]

local paths = {}
local done_file
local limit = 0
local i = 0
local got = 0

function init(args)
	done_file = args[1]
	limit = tonumber(args[2])
	for k = 3, #args do
		paths[#paths + 1] = args[k]
	end
	if not done_file or not limit or #paths == 0 then
		error("count.lua: usage: -- DONE LIMIT PATH [PATH...]")
	end
end

function request()
	i = i + 1
	return wrk.format("GET", paths[(i - 1) % #paths + 1])
end

function response(status, headers, body)
	got = got + 1
	if got == limit then
		local f = assert(io.open(done_file, "w"))
		f:write(got, "\n")
		f:close()
		wrk.thread:stop()
	end
end
