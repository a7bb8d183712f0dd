# Nimbus guest: flattens a JSON document into "path=value" lines, one per leaf
# (path parts joined by "/", array items numbered from 0, strings decoded; a value
# with newlines gives one line per part, each with the path). busybox has no JSON
# tool; this is enough for meta_data.json.   awk -f json.awk meta_data.json
function ws() { while (pos <= n && index(" \t\r\n", substr(s, pos, 1))) pos++ }
function str(   out, c) {
  pos++; out = ""
  while (pos <= n) {
    c = substr(s, pos, 1)
    if (c == "\"") { pos++; return out }
    if (c == "\\") {
      pos++; c = substr(s, pos, 1)
      if (c == "n") c = "\n"; else if (c == "t") c = "\t"; else if (c == "r") c = ""
      else if (c == "b" || c == "f") c = ""
      else if (c == "u") { c = "?"; pos += 4 }
    }
    out = out c; pos++
  }
  return out
}
function emit(path, v,   parts, k, i) {
  k = split(v, parts, "\n")
  if (k == 0) print path "="
  for (i = 1; i <= k; i++) if (i == 1 || parts[i] != "") print path "=" parts[i]
}
function value(path,   c, k, i, v) {
  ws(); c = substr(s, pos, 1)
  if (c == "{") {
    pos++; ws()
    if (substr(s, pos, 1) == "}") { pos++; return }
    while (pos <= n) {
      ws(); k = str(); ws(); pos++                    # the ':'
      value(path == "" ? k : path "/" k); ws()
      c = substr(s, pos, 1); pos++
      if (c != ",") return
    }
    return
  }
  if (c == "[") {
    pos++; ws(); i = 0
    if (substr(s, pos, 1) == "]") { pos++; return }
    while (pos <= n) {
      value(path "/" i++); ws()
      c = substr(s, pos, 1); pos++
      if (c != ",") return
    }
    return
  }
  if (c == "\"") { emit(path, str()); return }
  v = ""
  while (pos <= n && !index(",}] \t\r\n", substr(s, pos, 1))) { v = v substr(s, pos, 1); pos++ }
  if (v != "null") emit(path, v)
}
{ s = s $0 "\n" }
END { n = length(s); pos = 1; value("") }
