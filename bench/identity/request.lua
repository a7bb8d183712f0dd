-- wrk request script for bench/identity.sh: the method, body and headers come from the
-- environment (METHOD, BODY_FILE, AUTH_TOKEN, SUBJECT_TOKEN, CLOSE=1 for a new TCP
-- connection per request); done() prints one machine-readable line.
local method = os.getenv("METHOD") or "GET"
local headers = { ["Accept"] = "application/json" }
local body = nil
if os.getenv("BODY_FILE") then
  local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
  body = f:read("*a")
  f:close()
  headers["Content-Type"] = "application/json"
end
if os.getenv("AUTH_TOKEN") then headers["X-Auth-Token"] = os.getenv("AUTH_TOKEN") end
if os.getenv("SUBJECT_TOKEN") then headers["X-Subject-Token"] = os.getenv("SUBJECT_TOKEN") end
if os.getenv("CLOSE") == "1" then headers["Connection"] = "close" end

request = function()
  return wrk.format(method, nil, headers, body)
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT requests=%d rps=%.1f p50=%.2f p90=%.2f p99=%.2f max=%.2f errors=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, errors))
end
