-- wrk script of the push benchmark: VECOZO REST Push, one multipart request per message, each with an
-- Identificatie and a traceerId of its own.
-- wrk -s bench/push.lua URL -- MESSAGE_FILE TAG TOKEN
-- The message's Identificatie 123456789012 becomes TAG .. thread .. counter (12 characters), the traceerId a
-- UUID made of the same; the metadata names provider 42420001, municipality 0384 and WMO315 3.2.
-- done() prints one JSON line with the figures (the same fields as post.lua; "not_202" counts answers
-- other than 204).
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
  tagnum = 0
  for i = 1, #tag do tagnum = tagnum * 31 + string.byte(tag, i) end
  tagnum = tagnum % 65536
  boundary = "benchboundary7d1f3c"
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
  wrk.headers["Authorization"] = "Bearer " .. args[3]
end
local function metadata(n)
  local hex = string.format("%012x", n)
  local traceer = string.format("%08x-%04x-4000-8000-%s", id, tagnum, hex)
  return '{"routeringgegevens":{"afzender":{"rol":"Zorgaanbieder","code":"42420001"},'
    .. '"geadresseerden":[{"rol":"Gemeente","code":"0384"}],'
    .. '"berichtstroom":{"berichttype":"WMO315","berichtversie":3,"berichtsubversie":2,"actie":"Indienen"}},'
    .. '"referentiegegevens":{"conversatieId":"' .. traceer .. '","traceerId":"' .. traceer .. '"}}'
end
function request()
  counter = counter + 1
  local ident = tag .. id .. string.format("%0" .. width .. "d", counter)
  local body = "--" .. boundary .. "\r\n"
    .. 'Content-Disposition: form-data; name="berichtMetadata"\r\n'
    .. "Content-Type: application/json\r\n\r\n"
    .. metadata(counter) .. "\r\n"
    .. "--" .. boundary .. "\r\n"
    .. 'Content-Disposition: form-data; name="payload"; filename="bericht.xml"\r\n'
    .. "Content-Type: application/octet-stream\r\n\r\n"
    .. head .. ident .. tail .. "\r\n"
    .. "--" .. boundary .. "--\r\n"
  return wrk.format(nil, "/berichtenservice/berichten/rest-push/v1/berichten", nil, body)
end
function response(status, headers, body)
  if status ~= 204 then bad = bad + 1 end
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
