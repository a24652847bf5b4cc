/* matchspec.h — conda MatchSpec (CEP 29, conda 26.x models/match_spec.py).
 *
 * matchspec_parse reads `[channel[/subdir]:[namespace]:]name[ version[ build]][key=value,...]`
 * (also the `name=version=build`, `name==version`, `feature@` and package URL
 * forms) into its components; bracket values override positional ones (except
 * name).  matchspec_format appends conda's canonical str(MatchSpec(s)),
 * matchspec_to_json its components as a JSON object, and matchspec_match
 * tests a package record, conda's MatchSpec.match.  Channels are kept by
 * name (no channel_alias / custom_channels configuration is consulted beyond
 * conda's built-in defaults: `pkgs/main`, `pkgs/r`, ... are `defaults`).
 */
#ifndef HPCBUILD_MATCHSPEC_H
#define HPCBUILD_MATCHSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hpcbuild/error.h"
#include "hpcbuild/strbuf.h"

typedef struct matchspec matchspec;   /* opaque */

/* A package record, as in repodata (all strings owned; NULL when absent). */
typedef struct conda_record {
    char *name;
    char *version;
    char *build;
    int64_t build_number;
    char *channel;          /* channel name or URL, e.g. "conda-forge" */
    char *subdir;
    char *md5;
    char *sha256;
    char *license;
    char *license_family;
    char *fn;
    char *url;
    char **track_features;  /* NULL-terminated lists (may be NULL) */
    char **features;
    char **depends;
    char **extras;          /* the keys of "extras-depends" (CEP 44) */
    char **flags;           /* CEP 45 flags */
} conda_record;

matchspec *matchspec_parse(const char *s, size_t len, hb_error *err);
/* MATCHSPEC_ALLOW_BARE_OPERATOR: accept a trailing bare operator (`numpy=` is
 * `numpy`), as conda's internal _parse_spec_str does; MatchSpec() rejects it. */
enum { MATCHSPEC_ALLOW_BARE_OPERATOR = 1 };
matchspec *matchspec_parse_flags(const char *s, size_t len, unsigned flags, hb_error *err);
void matchspec_free(matchspec *ms);
/* conda's canonical string, str(MatchSpec(s)). */
void matchspec_format(const matchspec *ms, strbuf *out);
/* The components as a JSON object, e.g. {"name":"numpy","version":">=1.8"}. */
void matchspec_to_json(const matchspec *ms, strbuf *out);
/* The exact name, or "*" when the name is a pattern. */
const char *matchspec_name(const matchspec *ms);
/* The raw string of a component ("version", "build", "channel", ...), or NULL. */
const char *matchspec_get(const matchspec *ms, const char *field);
/* conda's get_exact_value: the value when the component matches one exact
 * value (not a glob, regex or range), else NULL. */
const char *matchspec_get_exact(const matchspec *ms, const char *field);

/* Does the record match?  0 and *result, or -1 when the record's version is
 * not a valid conda version and the spec needs to compare it. */
int matchspec_match(const matchspec *ms, const conda_record *rec, bool *result, hb_error *err);

/* conda's ChannelMatch(spec_channel).match(record_channel) for exact channels:
 * `defaults` matches `pkgs/main` and its repo.anaconda.com URL, `conda-forge`
 * matches https://conda.anaconda.org/conda-forge, a URL matches itself. */
bool conda_channel_matches(const char *spec_channel, const char *record_channel);

/* Reads a record from a JSON object (repodata style); frees with conda_record_free. */
int conda_record_from_json(conda_record *rec, const char *json, size_t len, hb_error *err);
void conda_record_free(conda_record *rec);

#endif
