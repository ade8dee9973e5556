"""The paperlens language server (pygls 2): its lifecycle (initialize, settings, watched files,
shutdown), its own commands (``paperlens.server.reindex``, ``paperlens.server.status``) and the
``paperlens/status`` notification; the features register themselves (lsp/features).

The server's state is :class:`~paperlens.lsp.session.Session`; nothing heavy runs on the event
loop (a new library is opened, indexed and derived from on worker threads)."""
from __future__ import annotations

import asyncio
import json
import logging
import sys
import threading
from pathlib import Path
from typing import Optional

from paperlens.core.collector import gc_paused
from paperlens.lsp.front import Handoff, Replayed, configure_logging

with gc_paused(freeze=True):       # ~1000 protocol classes: see lsp/background.py
    from lsprotocol import types
    from pygls.exceptions import FeatureNotificationError, FeatureRequestError
    from pygls.io_ import StdoutWriter, run_async
    from pygls.lsp.server import LanguageServer

    from paperlens import __version__
    from paperlens.core.parse import PAPER_SUFFIXES
    from paperlens.lsp import features
    from paperlens.lsp.configuration import editor_section
    from paperlens.lsp.indexing import EDITOR_SETTLE
    from paperlens.lsp.log_forward import LogForwarder
    from paperlens.lsp.progress import IndexProgress
    from paperlens.lsp.protocol import MessageReader, PaperlensProtocol
    from paperlens.lsp.session import Session
    from paperlens.lsp.status import StatusPublisher
    from paperlens.lsp.uris import initialize_folders, uri_to_path

log = logging.getLogger("paperlens")

COMMAND_REINDEX = "paperlens.server.reindex"
COMMAND_STATUS = "paperlens.server.status"
COMMANDS = [*features.COMMANDS, COMMAND_REINDEX, COMMAND_STATUS]    # every command the server has
CONFIGURATION_TIMEOUT = 5.0     # seconds the editor has to answer workspace/configuration


class PaperlensServer(LanguageServer):
    def __init__(self, session: Optional[Session] = None) -> None:
        super().__init__("paperlens", __version__, protocol_cls=PaperlensProtocol)
        self.session = session if session is not None else Session()
        self.features: Optional[features.Features] = None
        self.status = StatusPublisher(self.session.status, self.protocol.notify)
        self.session.on_status_changed = self.status.changed
        self.session.on_warning = self.show_warning
        self.session.on_progress = IndexProgress(self, lambda: self.session.loop,
                                                 lambda: self.session.counts().papers)

    def _start_io_async(self, stdin=None, stdout=None) -> None:
        """pygls's stdio loop (``start_io``), reading with :class:`MessageReader`: a message
        in one hand-off to a worker thread, not three."""
        self._stop_event = threading.Event()
        reader = MessageReader(stdin or sys.stdin.buffer, self.thread_pool)
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        try:
            asyncio.run(run_async(stop_event=self._stop_event, reader=reader, protocol=self.protocol,
                                  logger=logging.getLogger("pygls.server"),
                                  error_handler=self.report_server_error))
        except BrokenPipeError:
            log.error("Connection to the client is lost! Shutting down the server.")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    def serve(self, loop: asyncio.AbstractEventLoop) -> None:
        """The client is initialized: background work may start and report from now on."""
        self.session.loop = self.status.loop = loop

    def show_warning(self, message: str) -> None:
        """window/showMessage (warning) from any thread."""
        loop = self.session.loop
        if loop is None or loop.is_closed():     # not serving (yet): the log has it
            return
        params = types.ShowMessageParams(type=types.MessageType.Warning, message=message)
        try:
            loop.call_soon_threadsafe(self.window_show_message, params)
        except RuntimeError:      # the loop closed meanwhile: shutting down
            pass

    def report_server_error(self, error: Exception, source) -> None:
        """An error outside a request's answer: logged (with its traceback, by pygls, on
        stderr); a failing notification handler also tells the user, without the exception's
        text (it may hold paths). pygls would show ``Error in server: <exception>`` for every
        unreadable message as well."""
        if source is FeatureRequestError:         # the request's error answer says it
            return
        log.error("internal error (%s): %s", getattr(source, "__name__", source), type(error).__name__)
        if source is FeatureNotificationError:
            try:
                self.window_show_message(types.ShowMessageParams(
                    type=types.MessageType.Error,
                    message="paperlens: internal error (details in the server's log)"))
            except Exception:
                pass


def _client_supports_configuration(ls: LanguageServer) -> bool:
    caps = ls.client_capabilities
    return bool(caps and caps.workspace and caps.workspace.configuration)


async def _editor_settings(ls: LanguageServer) -> list:
    """workspace/configuration's answer for the ``paperlens`` section ([settings], or [])."""
    return await asyncio.wait_for(ls.workspace_configuration_async(
        types.ConfigurationParams(items=[types.ConfigurationItem(section="paperlens")])),
        CONFIGURATION_TIMEOUT) or []


def create_server(session: Optional[Session] = None, configured: bool = False) -> PaperlensServer:
    """The server, on ``session`` (the start-up front's) or a new one; ``configured``: the
    session has its settings already (:class:`~paperlens.lsp.front.Handoff`)."""
    server = PaperlensServer(session)
    session = server.session

    @server.feature(types.INITIALIZE)
    async def on_initialize(ls: PaperlensServer, params: types.InitializeParams) -> None:
        if configured:       # (applying initializationOptions again would drop the editor's settings)
            return
        folders = initialize_folders([w.uri for w in params.workspace_folders or []], params.root_uri,
                                     params.root_path)
        # the first library (none is open: the front's would have configured the session) is
        # opened before the next message is read: a hover or a definition coming meanwhile
        # would read an empty library and call its key unknown
        session.configure(params.initialization_options, folders)

    @server.feature(types.INITIALIZED)
    async def on_initialized(ls: PaperlensServer, params: types.InitializedParams) -> None:
        ls.serve(asyncio.get_running_loop())
        for e in session.settings_errors:
            ls.show_warning(f"paperlens: {e}")
        if _client_supports_configuration(ls) and not configured:    # (the front has its answer)
            try:
                editor = editor_section(await _editor_settings(ls))
                if editor is not None:           # they win over initializationOptions
                    await session.configure_async(editor)
            except Exception as exc:
                log.info("workspace/configuration not available: %s", exc)
        await register_watchers(ls)
        log.info("paperlens %s serving folders: %s", __version__, ", ".join(session.folders()) or "(none)")
        session.schedule_index()

    async def register_watchers(ls: PaperlensServer) -> None:
        """Ask the editor to watch the paper folders; watchdog covers what it cannot."""
        caps = ls.client_capabilities
        dyn = caps and caps.workspace and caps.workspace.did_change_watched_files
        folders = session.folders()
        if not (dyn and dyn.dynamic_registration):
            await session.watch_with_watchdog_async(folders)
            return
        glob = "**/*.{" + ",".join(s.lstrip(".") for s in PAPER_SUFFIXES) + "}"
        workspace = [Path(w) for w in session.workspace_folders]
        watchers, fallback = [], []
        if any(any(Path(f) == w or w in Path(f).parents for w in workspace) for f in folders):
            watchers.append(types.FileSystemWatcher(glob_pattern=glob))
        for f in folders:
            if any(Path(f) == w or w in Path(f).parents for w in workspace):
                continue
            if dyn.relative_pattern_support:
                watchers.append(types.FileSystemWatcher(glob_pattern=types.RelativePattern(
                    base_uri=Path(f).as_uri(), pattern=glob)))
            else:
                fallback.append(f)
        try:
            await ls.client_register_capability_async(types.RegistrationParams(registrations=[
                types.Registration(id="paperlens-watch", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                                   register_options=types.DidChangeWatchedFilesRegistrationOptions(
                                       watchers=watchers))]))
        except Exception as exc:
            log.info("the editor cannot watch files (%s); watching with watchdog", exc)
            fallback = folders
        if fallback:
            await session.watch_with_watchdog_async(fallback)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def on_config(ls: PaperlensServer, params: types.DidChangeConfigurationParams) -> None:
        data = params.settings
        if _client_supports_configuration(ls):     # (a change: the front's answer is the start's)
            try:
                result = await _editor_settings(ls)
                data = result[0] if result else data
            except Exception:
                pass
        if await session.configure_async(data):
            session.schedule_index()

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def on_watched(ls: PaperlensServer, params: types.DidChangeWatchedFilesParams) -> None:
        paths = [str(p) for c in params.changes if (p := uri_to_path(c.uri)) is not None]
        if paths:
            session.notify_changed(paths, settle=EDITOR_SETTLE)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def on_save(ls: PaperlensServer, params: types.DidSaveTextDocumentParams) -> None:
        path = uri_to_path(params.text_document.uri)
        if path is not None:
            session.notify_changed([str(path)], settle=EDITOR_SETTLE)

    @server.command(COMMAND_REINDEX)
    def cmd_reindex(ls: PaperlensServer, *args):
        session.schedule_index(rebuild=bool(args and args[0]))
        return {"scheduled": True}

    @server.command(COMMAND_STATUS)
    def cmd_status(ls: PaperlensServer, *args):
        return session.status()

    registered = server.features = features.register(server)
    # once the library has settled after an update, not after each of a stream of changes
    session.on_library_settled = registered.library_changed

    @server.feature(types.SHUTDOWN)
    def on_shutdown(ls: PaperlensServer, params) -> None:
        ls.status.close()
        registered.close()
        session.shutdown()

    return server


def initialize_result(client_capabilities: dict) -> dict:
    """``initialize``'s answer as pygls makes it for a client with these capabilities (JSON):
    what the start-up front answers (lsp/front.py; scripts/gen_capabilities.py writes the part
    that does not depend on the client)."""
    from pygls.capabilities import ServerCapabilitiesBuilder

    server = create_server()
    protocol, fm = server.protocol, server.protocol.fm
    caps = protocol._converter.structure(client_capabilities, types.ClientCapabilities)
    encoding = ServerCapabilitiesBuilder.choose_position_encoding(caps)
    built = ServerCapabilitiesBuilder(caps, set({**fm.features, **fm.builtin_features}.keys()), fm.feature_options,
                                      list(fm.commands.keys()), server._text_document_sync_kind,
                                      server._notebook_document_sync, encoding).build()
    result = types.InitializeResult(capabilities=built, server_info=protocol.server_info)
    return json.loads(json.dumps(protocol._converter.unstructure(result)))     # (enums as their values)


def run(log_file: Optional[str] = None, verbose: bool = False, handoff: Optional[Handoff] = None) -> int:
    """Serve over stdio. stdout carries the protocol only; logs go to stderr (and the client).
    ``handoff``: where the start-up front stopped (lsp/front.py; without it the log is set up
    here and the server reads the connection from its start)."""
    if handoff is None:
        configure_logging(log_file, verbose)
        handoff = Handoff()
    with gc_paused(freeze=True):      # the features' modules are imported here
        server = create_server(handoff.session, handoff.configured)
    server.protocol.silent_ids.update(handoff.silent)
    forward = LogForwarder(server)
    forward.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(forward)
    server.start_io(stdin=Replayed(handoff.replay, sys.stdin.buffer) if handoff.replay else None)
    return 0
