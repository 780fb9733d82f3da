-- wrk script of the ingest benchmark: POST one message per request, each with an Identificatie of its own.
-- wrk -s bench/post.lua URL -- MESSAGE_FILE TAG TOKEN
-- The message's Identificatie 123456789012 becomes TAG .. thread .. counter (12 characters): the
-- uniqueness index sees a new message every time. done() prints one JSON line with the figures.
local threads = {}
counter = 0
bad = 0
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  local f = assert(io.open(args[1], "rb"))
  local body = f:read("*a")
  f:close()
  local s, e = string.find(body, "123456789012", 1, true)
  head = string.sub(body, 1, s - 1)
  tail = string.sub(body, e + 1)
  tag = args[2]
  width = 11 - #tag
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/xml"
  wrk.headers["Authorization"] = "Bearer " .. args[3]
end
function request()
  counter = counter + 1
  local ident = tag .. id .. string.format("%0" .. width .. "d", counter)
  return wrk.format(nil, "/v1/berichten", nil, head .. ident .. tail)
end
function response(status, headers, body)
  if status ~= 202 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local b = 0
  for _, t in ipairs(threads) do b = b + t:get("bad") end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %f, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "not_202": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, b, e.connect + e.read + e.write + e.timeout))
end
