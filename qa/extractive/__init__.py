"""The offline answerer: quoted sentences, the multi-sentence forms, short answers, abstention."""
