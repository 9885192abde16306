-- The inline editor's save: POST /tasks/<id> as htmx with the editor's fields.
-- args: comma-separated task ids, wrk thread count, CSRF token, tags (URL-encoded).
-- A save names the version it edited and must match it (optimistic locking), so each thread
-- cycles over its own share of the ids: pass p saves every task once with version p + 1
-- (the bench resets the pool to version 1 before each run). The pool (5,000 tasks) is larger
-- than a run's saves, so a task is saved at most once or twice in a run, and a second save
-- comes thousands of requests after the first has answered (a small pool failed here: under
-- SQLite's write lock a slow save can be overtaken by many others). Every save should
-- succeed; a failed one shows as a non-2xx (409) in the results.
local ids = {}
local n = 0
local csrf, tags

function init(args)
  local threads = tonumber(args[2])
  csrf, tags = args[3], args[4]
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
  local body = "csrf_token=" .. csrf .. "&title=Bench+save+" .. pass ..
    "&notes=&priority=" .. (pass % 4) .. "&due_date=&tags=" .. tags ..
    "&repeat=&interval=1&version=" .. (pass + 1)
  return wrk.format("POST", "/tasks/" .. id, nil, body)
end
