-- login.lua - wrk script: the log-in form's POST, as a browser sends it
-- (a urlencoded form with the csrftoken cookie's value in
-- csrfmiddlewaretoken, docs/security.md).  Each request is a full log-in:
-- an argon2id check and a new session, answered 303.
--
--   wrk ... -s login.lua URL -- USERNAME PASSWORD CSRF_TOKEN

local body, headers, path

local function enc(s)
	return (s:gsub("[^%w%-%._~]", function(c)
		return string.format("%%%02X", string.byte(c))
	end))
end

function init(args)
	body = "username=" .. enc(args[1]) .. "&password=" .. enc(args[2]) ..
	    "&csrfmiddlewaretoken=" .. enc(args[3])
	headers = {
		["Content-Type"] = "application/x-www-form-urlencoded",
		["Cookie"] = "csrftoken=" .. args[3],
	}
	path = wrk.path
end

function request()
	return wrk.format("POST", path, headers, body)
end
