-- wrk script: GET one path, rotating over the session cookies given after `--`, and print the figures as JSON.
-- Usage: wrk ... -s wrk_report.lua http://host:port -- /path [cookie-header-value ...]

local path = "/"
local cookies = {}
local sent = 0

function init(args)
  path = args[1] or "/"
  for index = 2, #args do
    cookies[#cookies + 1] = args[index]
  end
end

function request()
  sent = sent + 1
  local headers = {}
  if #cookies > 0 then
    headers["Cookie"] = cookies[(sent % #cookies) + 1]
  end
  return wrk.format("GET", path, headers)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'LOAD_JSON {"requests": %d, "duration_us": %d, "p50_us": %.0f, "p90_us": %.0f, "p99_us": %.0f, '
      .. '"max_us": %.0f, "connect_errors": %d, "read_errors": %d, "write_errors": %d, '
      .. '"non_2xx_3xx": %d, "timeouts": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, errors.connect, errors.read, errors.write, errors.status, errors.timeout))
end
