-- POST /tasks/<id>/toggle as htmx (cookie, X-CSRFToken and HX-Request come from -H).
-- args: comma-separated task ids, wrk thread count. Each thread cycles over its own share of
-- the ids, marking them done on the first pass, open on the next, and so on, so every
-- request changes a row. The bench resets the pool to "open" before each run.
local ids = {}
local n = 0

function init(args)
  local threads = tonumber(args[2])
  local i = 0
  for id in string.gmatch(args[1], "%d+") do
    if i % threads == tid then
      ids[#ids + 1] = id
    end
    i = i + 1
  end
end

function request()
  local id = ids[n % #ids + 1]
  local pass = math.floor(n / #ids)
  n = n + 1
  local done = (pass % 2 == 0) and "1" or "0"
  return wrk.format("POST", "/tasks/" .. id .. "/toggle", nil, "done=" .. done)
end
