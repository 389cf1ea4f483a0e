# json_query for ansible-playbook without community.general (Galaxy is not
# reachable from the bench machine). Same semantics as community.general's
# plugin: jmespath.search(expr, data).
import jmespath


def json_query(data, expr):
    return jmespath.search(expr, data)


class FilterModule:
    def filters(self):
        return {"json_query": json_query}
