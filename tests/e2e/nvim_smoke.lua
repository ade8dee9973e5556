-- Headless Neovim (0.7+) driving `paperlens serve` through its built-in LSP client.
-- Paths come from environment variables set by test_editors.py; results are printed as JSON lines.
local env = vim.env
local function out(tbl) io.stdout:write(vim.fn.json_encode(tbl) .. "\n") end

local function main()
  local indexed = false
  local client_id = vim.lsp.start_client({
    name = "paperlens",
    cmd = { env.PAPERLENS_PYTHON, "-m", "paperlens", "serve", "--stdio" },
    root_dir = env.PAPERLENS_LIBRARY,
    init_options = { paperlens = { indexPath = env.PAPERLENS_INDEX } },
    handlers = {
      ["$/progress"] = function(_, result)
        if result and result.value and result.value.kind == "end" then indexed = true end
      end,
    },
  })
  assert(client_id, "start_client failed")

  vim.cmd("edit " .. env.PAPERLENS_LIBRARY .. "/drafts/survey.tex")
  local tex = vim.api.nvim_get_current_buf()
  vim.lsp.buf_attach_client(tex, client_id)
  assert(vim.wait(20000, function()
    local c = vim.lsp.get_client_by_id(client_id)
    return c ~= nil and c.initialized == true
  end, 20), "server did not initialize")
  assert(vim.wait(60000, function() return indexed end, 20), "indexing did not finish")

  -- hover on the key of \cite{vaswani2017attention}
  local row = vim.fn.search([[\\cite{vaswani2017attention}]]) - 1
  local col = vim.fn.col(".") - 1 + #"\\cite{" + 3
  local hover = vim.lsp.buf_request_sync(tex, "textDocument/hover",
    { textDocument = { uri = vim.uri_from_bufnr(tex) }, position = { line = row, character = col } }, 10000)
  for _, r in pairs(hover or {}) do
    out({ what = "hover", err = r.err and vim.inspect(r.err) or nil,
          value = r.result and r.result.contents and r.result.contents.value or nil })
  end

  -- completion after [@ in the Markdown draft, with a title word typed
  vim.cmd("edit " .. env.PAPERLENS_LIBRARY .. "/drafts/notes.md")
  local md = vim.api.nvim_get_current_buf()
  vim.lsp.buf_attach_client(md, client_id)
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

  vim.lsp.stop_client(client_id)
  vim.wait(5000, function() return vim.lsp.get_client_by_id(client_id) == nil end, 20)
end

local ok, err = xpcall(main, debug.traceback)
if not ok then
  io.stderr:write("FAILED: " .. tostring(err) .. "\n")
  vim.cmd("cquit 1")
end
vim.cmd("qall!")
