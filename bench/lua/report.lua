-- Appended to every case's script: count responses that are not 2xx (wrk's own error count
-- lets 3xx through, and a redirect to the sign-in page must not pass as a served page) and
-- print the exact totals and percentiles as one JSON line for bench/load.py.
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

not_2xx = 0
statuses = {}

function response(status, headers, body)
  if status < 200 or status > 299 then
    not_2xx = not_2xx + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local bad, counts, seen = 0, {}, {}
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("not_2xx")
    for status, count in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + count
    end
  end
  for status, count in pairs(counts) do
    seen[#seen + 1] = string.format('"%d": %d', status, count)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH-JSON {"requests": %d, "bytes": %d, "duration_us": %d, "not_2xx": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "status_errors": %d, ' ..
    '"timeouts": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, "statuses": {%s}}\n',
    summary.requests, summary.bytes, summary.duration, bad,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, table.concat(seen, ", ")))
end
