-- postjson.lua - wrk script: POST the same JSON body to URL's path with a
-- bearer token, every request (bench/run.sh's canned-response render).
--
--   wrk ... -s postjson.lua URL -- TOKEN BODY

local body, headers, path

function init(args)
	if not args[1] or not args[2] then
		error("postjson.lua: usage: -- TOKEN BODY")
	end
	headers = {
		["Authorization"] = "Bearer " .. args[1],
		["Content-Type"] = "application/json",
	}
	body = args[2]
	path = wrk.path
end

function request()
	return wrk.format("POST", path, headers, body)
end
