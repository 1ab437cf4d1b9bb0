"""A port of Flask's tutorial app (flaskr), written against ``flask``; the tests run it on both faces."""
