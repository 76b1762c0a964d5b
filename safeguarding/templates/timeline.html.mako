## The HTML export.  Every ${...} is escaped (the `h` filter is the default); the case's text
## is only ever placed as text or in a quoted attribute, and the page loads nothing.
<%def name="paras(runs, cls='')">
% for run in runs:
<p class="text ${cls}" dir="${direction(run)}"${lang(run) | n}>${run["text"]}</p>
% endfor
</%def>
<%def name="entry(e, level)">
<article class="entry${' amendment' if level > 4 else ''}" id="entry-${e['id']}">
<header>
% if level == 4:
<time datetime="${e['at']}">${e['time']}</time>
% endif
<h${level}>${e["head"]}</h${level}>
% if e["late"]:
<p class="late">${e["late"]}</p>
% endif
</header>
% if e["stub"] is not None:
% for line in e["stub"]:
<p class="stub">${line}</p>
% endfor
% else:
% if e["facts"]:
<dl class="facts">
% for fact in e["facts"]:
<dt>${fact["label"]}</dt><dd dir="auto">${fact["value"]}</dd>
% endfor
</dl>
% endif
${paras(e["text"])}
% for fact in e["after"]:
<p class="label">${fact["label"]}:</p>
${paras(fact["value"])}
% endfor
% if e["observations"]:
<p class="label">Recorder's observations (opinion):</p>
${paras(e["observations"], "opinion")}
% endif
% for amendment in e["amendments"]:
${entry(amendment, min(level + 1, 6))}
% endfor
% endif
</article>
</%def>
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>${doc["reference"]} · safeguarding chronology · ${doc["school"]}</title>
<style>${style | n}</style>
</head>
<body>
<p class="marking" role="note">${doc["school"]} · ${doc["marking"]} · ${doc["reference"]}</p>
<main>
<h1>${doc["title"]}</h1>
% if doc["redaction"]:
<p class="notice">${doc["redaction"]}</p>
% endif
<dl class="header">
% for fact in doc["facts"]:
<dt>${fact["label"]}</dt><dd>${paras(fact["value"])}</dd>
% endfor
</dl>
<section id="chronology">
<h2>Chronology</h2>
% for day in doc["days"]:
<section class="day" id="day-${day['id']}">
<h3>${day["title"]}</h3>
% for e in day["entries"]:
${entry(e, 4)}
% endfor
</section>
% endfor
</section>
<section id="actions">
<h2>Actions</h2>
% if doc["actions"]:
<table>
<thead><tr><th scope="col">#</th><th scope="col">Action</th><th scope="col">Owner</th><th scope="col">Due</th><th scope="col">Status</th></tr></thead>
<tbody>
% for a in doc["actions"]:
<tr${' class="overdue"' if a["overdue"] else '' | n}><td>${a["number"]}</td><td>${paras(a["text"])}</td><td dir="auto">${a["owner"]}</td><td><time datetime="${a['due']}">${a["due"]}</time></td><td>${a["status"]}</td></tr>
% endfor
</tbody>
</table>
% else:
<p>None recorded.</p>
% endif
</section>
<section id="checkpoint">
<h2>Checkpoint</h2>
% for line in doc["checkpoint"]:
<p>${line}</p>
% endfor
</section>
</main>
<p class="marking" role="note">${doc["footer"]}</p>
</body>
</html>
