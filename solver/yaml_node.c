/* yaml_node.c — shared libyaml node helpers (yaml_node.h). */
#include "hpcbuild/yaml_node.h"

const char *hb_yaml_kind_name(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE: return "a text value";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}
