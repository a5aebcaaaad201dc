-- wrk script for src/load/wrk.ts: POSTs the signing requests listed in a file ("path<TAB>json body"
-- per line), in turn. An optional second argument makes it a burst: wrk exits as soon as that many
-- responses are in (its own summary would wait out -d), so the caller times the whole process.
--   wrk -t1 -c64 -d10s --latency -s src/load/wrk-sign.lua URL -- requests.tsv [count]
local requests = {}
local position = 0

function init(args)
  for line in io.lines(args[1]) do
    local path, body = line:match("^([^\t]+)\t(.*)$")
    requests[#requests + 1] = wrk.format("POST", path, {["Content-Type"] = "application/json"}, body)
  end
  position = 0
  local limit = tonumber(args[2])
  if limit then
    local answered, failed = 0, 0
    response = function(status)
      answered = answered + 1
      if status ~= 200 then failed = failed + 1 end
      if answered >= limit then
        io.write("non-2xx: " .. failed .. "\n")
        os.exit(0)
      end
    end
  end
end

function request()
  position = position % #requests + 1
  return requests[position]
end
