## The governors' report as a page.  Every ${...} is escaped (the `h` filter is the default);
## the charts are inline SVG whose numbers come from `svg_chart`, and the page loads nothing.
<%def name="figure(c)">
<% g = svg_chart(c) %>
<figure>
<figcaption>${g["title"]}</figcaption>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${g['width']} ${g['height']}" width="${g['width']}" height="${g['height']}" role="img" aria-label="${g['title']}" font-family="Noto Sans, Segoe UI, Arial, sans-serif" font-size="12">
% for b in g["bars"]:
<rect x="${b['x']}" y="${b['y']}" width="${b['w']}" height="${b['h']}" fill="${g['fewer_colour'] if b['fewer'] else g['colour']}"><title>${b["label"]}: ${b["text"]}</title></rect>
% if g["columns"]:
<text x="${b['tx']}" y="${b['ty']}" text-anchor="middle" font-size="9">${b["text"]}</text>
<text x="${b['lx']}" y="${b['ly']}" text-anchor="middle" font-size="10">${b["label"]}</text>
% else:
<text text-anchor="end">\
% for y, line in b["lines"]:
<tspan x="${b['lx']}" y="${y}">${line}</tspan>\
% endfor
</text>
<text x="${b['tx']}" y="${b['ty']}">${b["text"]}</text>
% endif
% endfor
</svg>
</figure>
</%def>
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>${doc["title"]} · ${doc["school"]} · ${doc["period"]}</title>
<style>${style | n}</style>
</head>
<body>
<p class="marking" role="note">${doc["school"]} · ${doc["period"]} · ${doc["marking"]}</p>
<main>
<h1>${doc["title"]}</h1>
<p><strong>${doc["school"]}</strong> · ${doc["period"]}</p>
% for notice in doc["notices"]:
<p class="notice">${notice}</p>
% endfor
% for part in doc["sections"]:
<section>
<h2>${part["title"]}</h2>
% if part["rows"]:
<table>
<tbody>
% for label, value in part["rows"]:
<tr><th scope="row">${label}</th><td class="n">${value}</td></tr>
% endfor
</tbody>
</table>
% endif
% for c in part["charts"]:
% if c["bars"]:
${figure(c)}
% endif
% endfor
% for table in part["tables"]:
% if table["rows"]:
<h3>${table["title"]}</h3>
<table>
<thead><tr>
% for heading in table["head"]:
<th scope="col"${' class="n"' if loop.last else '' | n}>${heading}</th>
% endfor
</tr></thead>
<tbody>
% for row in table["rows"]:
<tr>
% for cell in row:
<td${' class="n"' if loop.last else '' | n}>${cell}</td>
% endfor
</tr>
% endfor
</tbody>
</table>
% if table.get("note"):
<p class="note">${table["note"]}</p>
% endif
% endif
% endfor
% for note in part["notes"]:
<p class="note">${note}</p>
% endfor
</section>
% endfor
</main>
<p class="marking" role="note">${doc["produced"]}</p>
</body>
</html>
