//! The document around a page: its style (light and dark from the reader's preference,
//! print without the buttons and with every collapsed part open), its small script (copy
//! buttons, "show all"), and a Content-Security-Policy that forbids every request: the
//! page is one file, read offline or as an e-mail attachment.

use maud::{html, Markup, PreEscaped, DOCTYPE};

/// No request to any network: styles, scripts and images only inline.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

/// The page's style, every rule under `.pgsage` so that a fragment embedded in a notebook
/// styles only itself.
pub const STYLE: &str = r#"
.pgsage{--bg:#fff;--fg:#1d2330;--muted:#5b6475;--line:#d9dde5;--card:#f6f7f9;--code:#f1f3f6;
--crit:#b42318;--crit-bg:#fde8e7;--warn:#9a5b00;--warn-bg:#fff3d6;--info:#175cd3;--info-bg:#e6efff;
--ok:#067647;--bar:#4f6bed;--bar2:#f79009;--bar3:#98a2b3;
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
@media (prefers-color-scheme:dark){.pgsage{--bg:#12151b;--fg:#e6e9ef;--muted:#9aa3b2;--line:#2c323d;
--card:#1a1f27;--code:#202631;--crit:#ff8a80;--crit-bg:#3b1513;--warn:#ffc266;--warn-bg:#3a2a0c;
--info:#8ab4ff;--info-bg:#13254a;--ok:#6ce9a6;--bar:#7f95ff;--bar2:#fdb022;--bar3:#667085}}
body.pgsage{margin:0}
.pgsage main{max-width:1100px;margin:0 auto;padding:24px 20px 48px}
.pgsage h1{font-size:1.6em;margin:.2em 0}
.pgsage h2{font-size:1.25em;margin:1.6em 0 .5em;padding-bottom:.2em;border-bottom:1px solid var(--line)}
.pgsage h3{font-size:1.05em;margin:0}
.pgsage .muted{color:var(--muted)}
.pgsage .facts{display:flex;flex-wrap:wrap;gap:6px 18px;margin:.4em 0}
.pgsage .banner{border-left:4px solid var(--warn);background:var(--warn-bg);padding:8px 12px;margin:12px 0;border-radius:4px}
.pgsage .counts{display:flex;gap:10px;flex-wrap:wrap;margin:12px 0}
.pgsage .badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:.85em;font-weight:600;white-space:nowrap}
.pgsage .critical{color:var(--crit);background:var(--crit-bg)}
.pgsage .warning{color:var(--warn);background:var(--warn-bg)}
.pgsage .info{color:var(--info);background:var(--info-bg)}
.pgsage .action{border:1px solid var(--line);border-radius:8px;background:var(--card);margin:12px 0;padding:12px 16px}
.pgsage .action header{display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
.pgsage .rank{font-weight:700;font-size:1.1em;min-width:1.6em}
.pgsage .effect{margin:.3em 0}
.pgsage pre{background:var(--code);border:1px solid var(--line);border-radius:6px;padding:10px;overflow-x:auto;margin:6px 0;font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre}
.pgsage code{font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.pgsage .code{position:relative}
.pgsage ol.first{padding-left:1.6em}.pgsage ol.first li{margin:4px 0}
.pgsage a{color:var(--info)}
.pgsage h1 code,.pgsage h3 code{font-size:inherit}
.pgsage button.copy{position:absolute;top:6px;right:6px;font-size:12px;padding:2px 8px;border:1px solid var(--line);border-radius:4px;background:var(--bg);color:var(--fg);cursor:pointer}
.pgsage .cost{color:var(--muted);font-size:.92em}
.pgsage details{margin:6px 0}
.pgsage summary{cursor:pointer}
.pgsage table{border-collapse:collapse;width:100%;margin:6px 0;font-size:.93em}
.pgsage th,.pgsage td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
.pgsage td.num,.pgsage th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.pgsage .finding{border-top:1px solid var(--line);padding:6px 0}
.pgsage .capped>.more{display:none}
.pgsage button.show-all{border:1px solid var(--line);background:var(--bg);color:var(--fg);border-radius:4px;padding:2px 10px;cursor:pointer;margin:4px 0}
.pgsage .charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:16px;align-items:start}
.pgsage figure{margin:0;border:1px solid var(--line);border-radius:8px;padding:10px 12px;background:var(--card)}
.pgsage figcaption{font-weight:600;margin-bottom:4px}
.pgsage svg{max-width:100%;height:auto}
.pgsage svg text{fill:var(--fg);font:12px system-ui,sans-serif}
.pgsage svg .axis{stroke:var(--line)}
.pgsage svg .bar{fill:var(--bar)}
.pgsage svg .bar2{fill:var(--bar2)}
.pgsage svg .bar3{fill:var(--bar3)}
.pgsage footer{margin-top:32px;color:var(--muted);font-size:.85em}
@media print{.pgsage{--bg:#fff;--fg:#000;--card:#fff;--code:#f6f6f6}
.pgsage button{display:none}.pgsage .capped>.more{display:block}
.pgsage pre{white-space:pre-wrap;overflow-wrap:anywhere}
.pgsage .action,.pgsage figure{break-inside:avoid}.pgsage main{max-width:none;padding:0}}
"#;

/// The page's script: copy buttons (the clipboard API, else a selection), "show all" for
/// capped lists, and every collapsed part opened for printing.
pub const SCRIPT: &str = r#"
(function(){
function copy(text,button){
 function done(){var t=button.textContent;button.textContent='copied';setTimeout(function(){button.textContent=t},1200)}
 if(navigator.clipboard&&window.isSecureContext){navigator.clipboard.writeText(text).then(done,function(){fallback(text);done()})}
 else{fallback(text);done()}}
function fallback(text){var a=document.createElement('textarea');a.value=text;a.style.position='fixed';a.style.opacity='0';
 document.body.appendChild(a);a.select();try{document.execCommand('copy')}catch(e){}document.body.removeChild(a)}
document.querySelectorAll('.pgsage button.copy').forEach(function(b){b.addEventListener('click',function(){
 var target=document.getElementById(b.getAttribute('data-target'));if(target){copy(target.textContent,b)}})});
document.querySelectorAll('.pgsage button.show-all').forEach(function(b){b.addEventListener('click',function(){
 var list=document.getElementById(b.getAttribute('data-target'));if(list){list.classList.remove('capped')}b.remove()})});
window.addEventListener('beforeprint',function(){document.querySelectorAll('.pgsage details').forEach(function(d){d.open=true})});
})();
"#;

/// A whole page: `title` and `body` in the document with its style and script.
pub fn document(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(CONTENT_SECURITY_POLICY);
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body class="pgsage" {
                main { (body) }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    }
}

/// The same sections to embed in another page (a notebook): the style scoped to them,
/// the script after them.
pub fn fragment(body: Markup) -> Markup {
    html! {
        div class="pgsage" {
            style { (PreEscaped(STYLE)) }
            (body)
            script { (PreEscaped(SCRIPT)) }
        }
    }
}

/// A list of `items` of which the first `shown` are visible and the rest behind a "show
/// all" button (`id` names the list for the button).
pub fn capped<T>(id: &str, items: &[T], shown: usize, item: impl Fn(&T) -> Markup) -> Markup {
    capped_with(id, items, shown, &item, &item)
}

/// [`capped`] with the hidden items drawn by `rest` (more compact: a long list's tail
/// costs page size for every reader, and is read by few).
pub fn capped_with<T>(
    id: &str,
    items: &[T],
    shown: usize,
    first: &dyn Fn(&T) -> Markup,
    rest: &dyn Fn(&T) -> Markup,
) -> Markup {
    let more = items.len().saturating_sub(shown);
    html! {
        div id=(id) class=[(more > 0).then_some("capped")] {
            @for x in items.iter().take(shown) {
                (first(x))
            }
            @if more > 0 {
                div class="more" {
                    @for x in items.iter().skip(shown) {
                        (rest(x))
                    }
                }
            }
        }
        @if more > 0 {
            button class="show-all" type="button" data-target=(id) {
                "Show all " (items.len()) " (" (more) " more)"
            }
        }
    }
}

/// SQL or commands whole, never wrapped, with a button that copies them.
pub(crate) fn code_block(id: &str, text: &str) -> Markup {
    html! {
        div class="code" {
            pre id=(id) { code { (text) } }
            button class="copy" type="button" data-target=(id) { "copy" }
        }
    }
}
