"""What the blueprints in ``app.routes`` share that is not a blueprint: query-argument
parsing (``args``) and the checkout transaction both checkout routes run (``checkout``)."""
