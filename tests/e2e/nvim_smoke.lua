-- Headless Neovim (0.7+) using `paperlens serve` as a user's init.lua sets it up: the editor was
-- started with `-u <a Neovim block of the README>`; this file opens the drafts (their FileType
-- starts or reuses the server), hovers a citation and completes keys. Paths come from environment
-- variables set by test_editors.py; results are printed as JSON lines.
local env = vim.env
local function out(tbl) io.stdout:write(vim.fn.json_encode(tbl) .. "\n") end

local get_clients = vim.lsp.get_clients or vim.lsp.get_active_clients     -- 0.10+ / 0.7-0.9
local function paperlens_clients(buf)
  local found = {}
  for _, c in ipairs(get_clients()) do
    if c.name == "paperlens" and (buf == nil or vim.lsp.buf_is_attached(buf, c.id)) then
      table.insert(found, c)
    end
  end
  return found
end

local function main()
  -- the server's indexing ends with a $/progress "end": a global handler sees it (the README's
  -- setups define none of their own); Neovim's own handler still runs
  local indexed = false
  local progress = vim.lsp.handlers["$/progress"]
  vim.lsp.handlers["$/progress"] = function(err, result, ctx, config)
    if result and result.value and result.value.kind == "end" then indexed = true end
    if progress then return progress(err, result, ctx, config) end
  end

  vim.cmd("edit " .. env.PAPERLENS_LIBRARY .. "/drafts/survey.tex")
  local tex = vim.api.nvim_get_current_buf()
  out({ what = "filetype", file = "survey.tex", filetype = vim.bo[tex].filetype })
  assert(vim.wait(20000, function()
    local c = paperlens_clients(tex)[1]
    return c ~= nil and c.initialized == true
  end, 20), "no paperlens server attached to survey.tex (FileType " .. vim.bo[tex].filetype .. ")")
  assert(vim.wait(60000, function() return indexed end, 20), "indexing did not finish")
  local client = paperlens_clients(tex)[1]
  local folders = {}
  for _, f in ipairs(client.workspace_folders or client.workspaceFolders or {}) do table.insert(folders, f.name) end
  out({ what = "client", root_dir = client.config.root_dir, workspace_folders = folders })

  -- hover on the key of \cite{vaswani2017attention}
  local row = vim.fn.search([[\\cite{vaswani2017attention}]]) - 1
  local col = vim.fn.col(".") - 1 + #"\\cite{" + 3
  local hover = vim.lsp.buf_request_sync(tex, "textDocument/hover",
    { textDocument = { uri = vim.uri_from_bufnr(tex) }, position = { line = row, character = col } }, 10000)
  for _, r in pairs(hover or {}) do
    out({ what = "hover", err = r.err and vim.inspect(r.err) or nil,
          value = r.result and r.result.contents and r.result.contents.value or nil })
  end

  -- completion after [@ in the Markdown draft (the same server), with a title word typed
  vim.cmd("edit " .. env.PAPERLENS_LIBRARY .. "/drafts/notes.md")
  local md = vim.api.nvim_get_current_buf()
  assert(vim.wait(20000, function() return paperlens_clients(md)[1] ~= nil end, 20),
         "no paperlens server attached to notes.md (FileType " .. vim.bo[md].filetype .. ")")
  local last = vim.api.nvim_buf_line_count(md)
  for _, typed in ipairs({ "See [@attention", "See [@gaze", "See [@" }) do
    vim.api.nvim_buf_set_lines(md, last, -1, false, { typed })
    local comp = vim.lsp.buf_request_sync(md, "textDocument/completion",
      { textDocument = { uri = vim.uri_from_bufnr(md) }, position = { line = last, character = #typed } }, 10000)
    for _, r in pairs(comp or {}) do
      local items = r.result and (r.result.items or r.result) or {}
      local labels = {}
      for _, it in ipairs(items) do table.insert(labels, it.label) end
      out({ what = "completion", typed = typed, labels = labels, err = r.err and vim.inspect(r.err) or nil })
    end
  end
  out({ what = "servers", count = #paperlens_clients() })

  for _, c in ipairs(paperlens_clients()) do vim.lsp.stop_client(c.id) end
  vim.wait(5000, function() return #paperlens_clients() == 0 end, 20)
end

local ok, err = xpcall(main, debug.traceback)
if not ok then
  io.stderr:write("FAILED: " .. tostring(err) .. "\n")
  vim.cmd("cquit 1")
end
vim.cmd("qall!")
