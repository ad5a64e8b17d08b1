"""The service layer: plain functions from a validated request to core's results, shared by the JSON API, the
HTML pages and the heavy-work processes. ``resolve`` turns a request into a config, parameters and an encoded
input; ``limits`` checks sizes and the compute budget from the config alone, before anything is built; ``trace``
and ``seq2seq`` run networks and encoder-decoders (``batches``, ``interventions`` and ``states`` are the request's
optional parts); ``uploads`` reads model files within bounds; ``training`` runs training jobs. Nothing here
knows about HTTP: errors are app.errors classes that app.http.handlers maps to statuses.
"""
