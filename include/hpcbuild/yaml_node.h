/* yaml_node.h — what the YAML readers (site files, recipes) share about libyaml nodes.
 *
 * hb_yaml_kind_name names a node's kind as messages say it: "a text value", "a list",
 * "a mapping", or "nothing".
 */
#ifndef HPCBUILD_YAML_NODE_H
#define HPCBUILD_YAML_NODE_H

#include <yaml.h>

const char *hb_yaml_kind_name(const yaml_node_t *n);

#endif
