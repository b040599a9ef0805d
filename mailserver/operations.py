"""A migration operation that keeps SQLite's views and triggers across a table rebuild.

SQLite cannot alter most columns in place, so Django rebuilds the table (create ``new__t``,
copy, drop ``t``, rename). The rename fails while a view names the table ("error in view
lookup_mailboxes_v1: no such table"), and the drop takes the table's triggers with it, which
would leave the lookup tables out of step with the directory from then on. Wrapped in
``KeepViewsAndTriggers``, an operation that rebuilds a table runs with every view and trigger
dropped first and created again afterwards, from the very statements SQLite kept for them
(``sqlite_master``), so what each one says is exactly what it said before. On MariaDB and
PostgreSQL the operations run as they are.
"""

from django.db.migrations.operations.base import Operation


def _saved_objects(connection) -> list[tuple[str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('view', 'trigger') AND sql IS NOT NULL "
            "ORDER BY rowid"
        )
        return list(cursor.fetchall())


class KeepViewsAndTriggers(Operation):
    reduces_to_sql = False
    reversible = True

    def __init__(self, *operations):
        self.operations = operations

    def deconstruct(self):
        return self.__class__.__name__, list(self.operations), {}

    def describe(self):
        return "Keep SQLite's views and triggers across: " + "; ".join(op.describe() for op in self.operations)

    def state_forwards(self, app_label, state):
        for operation in self.operations:
            operation.state_forwards(app_label, state)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._around(schema_editor, self._steps(app_label, schema_editor, from_state, backwards=False))

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self._around(schema_editor, self._steps(app_label, schema_editor, from_state, backwards=True))

    def _steps(self, app_label, schema_editor, from_state, *, backwards):
        """Run the inner operations one by one, each between the states before and after it."""
        states = [from_state]
        for operation in self.operations:
            state = states[-1].clone()
            operation.state_forwards(app_label, state)
            states.append(state)

        def run():
            pairs = list(zip(self.operations, states[:-1], states[1:], strict=True))
            if backwards:
                for operation, before, after in reversed(pairs):
                    operation.database_backwards(app_label, schema_editor, after, before)
            else:
                for operation, before, after in pairs:
                    operation.database_forwards(app_label, schema_editor, before, after)

        return run

    @staticmethod
    def _around(schema_editor, run):
        connection = schema_editor.connection
        if connection.vendor != "sqlite":
            run()
            return
        saved = _saved_objects(connection)
        quote = schema_editor.quote_name
        for kind, name, _ in reversed(saved):
            schema_editor.execute(f"DROP {kind.upper()} IF EXISTS {quote(name)}", params=None)
        run()
        for kind in ("view", "trigger"):
            for saved_kind, _, sql in saved:
                if saved_kind == kind:
                    schema_editor.execute(sql, params=None)
