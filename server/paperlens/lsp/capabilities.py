"""The server capabilities pygls computes for paperlens, without the position encoding (chosen
per client): the start-up front (front.py) answers ``initialize`` with them before pygls is
loaded. Written by scripts/gen_capabilities.py (run it after changing what the server
registers; tests/unit/features/test_front.py fails until then): do not edit."""

SERVER = {'codeActionProvider': {'codeActionKinds': ['quickfix', 'refactor.rewrite']},
 'codeLensProvider': {'resolveProvider': False},
 'completionProvider': {'resolveProvider': True, 'triggerCharacters': ['{', '@', ',', ';', '<']},
 'definitionProvider': True,
 'documentLinkProvider': {'resolveProvider': False},
 'executeCommandProvider': {'commands': ['paperlens.server.reindex',
                                         'paperlens.server.status',
                                         'paperlens.server.search',
                                         'paperlens.server.papers',
                                         'paperlens.server.openPaperText',
                                         'paperlens.server.citationInsert',
                                         'paperlens.server.citeHere',
                                         'paperlens.server.showPassage',
                                         'paperlens.server.checkCitation']},
 'hoverProvider': True,
 'referencesProvider': True,
 'textDocumentSync': {'change': 2, 'openClose': True, 'save': True},
 'workspace': {'fileOperations': {},
               'workspaceFolders': {'changeNotifications': True, 'supported': True}},
 'workspaceSymbolProvider': {'resolveProvider': False}}
