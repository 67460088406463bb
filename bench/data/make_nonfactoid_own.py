"""Build bench/data/nonfactoid-own.jsonl from snippet keys (each snippet names one whole sentence)."""
import json
import re
from pathlib import Path

from qa import evalsets

Q = [
 ("own01","squad-dev","summary","Summarize the Harvard University article.",None,[("Harvard_University.txt",s) for s in ["Established originally by the Massachusetts","Harvard is a large, highly residential research university.","The University is organized into eleven separate academic units","Harvard was formed in 1636","Harvard's $37.6 billion financial endowment"]],3,None),
 ("own02","squad-dev","summary","What is the computational complexity theory article about?",None,[("Computational_complexity_theory.txt",s) for s in ["Computational complexity theory is a branch","A problem is regarded as inherently difficult","The theory formalizes this intuition","One of the roles of computational complexity theory","Closely related fields in theoretical computer science","A key distinction between analysis of algorithms"]],3,None),
 ("own03","squad-dev","list","What are the sources of European Union law?",None,[("European_Union_law.txt",s) for s in ["The three sources of European Union law","The main sources of primary law are","Secondary sources include regulations","Supplementary sources of European Union law include"]],3,None),
 ("own04","squad-dev","list","Which types of Turing machines are used to define complexity classes?",None,[("Computational_complexity_theory.txt",s) for s in ["Many types of Turing machines are used to define","A deterministic Turing machine is the most basic","A probabilistic Turing machine is a deterministic","A non-deterministic Turing machine is a deterministic Turing machine with an added"]],2,None),
 ("own05","squad-dev","why","Why is the Turing machine the most commonly used model in complexity theory?",None,[("Computational_complexity_theory.txt","Since Turing machines are easy to analyze")],1,None),
 ("own06","squad-dev","why","Why do Directives not generally let citizens sue other citizens?",None,[("European_Union_law.txt",s) for s in ["In theory, this is because TFEU article 288 says Directives","While the Treaties and Regulations will have direct effect"]],1,None),
 ("own07","squad-dev","how","How did Charles W. Eliot change Harvard?",None,[("Harvard_University.txt",s) for s in ["Charles W. Eliot, president 1869","Following the American Civil War, President Charles W. Eliot","While Eliot was the most crucial figure"]],1,None),
 ("own08","squad-dev","how","How does the European Union make its laws?",None,[("European_Union_law.txt",s) for s in ["The European Commission has the initiative to propose legislation.","During the ordinary legislative procedure","The legislature of the European Union is principally composed"]],1,None),
 ("own09","squad-dev","yesno","Does the European Union have a codified constitution?","no",[("European_Union_law.txt","Although the European Union does not have a codified constitution")],1,None),
 ("own10","squad-dev","yesno","Was Harvard ever formally affiliated with a religious denomination?","no",[("Harvard_University.txt",s) for s in ["Although never formally affiliated with any denomination","It was never affiliated with any particular denomination"]],1,None),
 ("own11","squad-dev","yesno","Is Harvard's endowment the largest of any academic institution?","yes",[("Harvard_University.txt","Harvard's $37.6 billion financial endowment is the largest")],1,None),
 ("own12","squad-dev","compare","How do deterministic and non-deterministic Turing machines differ?",None,[("Computational_complexity_theory.txt",s) for s in ["A deterministic Turing machine is the most basic","A non-deterministic Turing machine is a deterministic Turing machine with an added"]],2,[[0],[1]]),
 ("own13","squad-dev","compare","How did Eliot and Conant differ as presidents of Harvard?",None,[("Harvard_University.txt",s) for s in ["Charles W. Eliot, president 1869","While Eliot was the most crucial figure","James Bryant Conant (president, 1933","He saw higher education as a vehicle"]],2,[[0,1],[2,3]]),
 ("own14","multihop-dev","summary","What does TechCrunch say about the early impressions of Google's Gemini?",None,[],3,None),
 ("own15","squad-dev","off-topic","Summarize the article about the French Revolution.",None,[],0,None),
 ("own16","multihop-dev","off-topic","Why did the Titanic sink, according to the articles?",None,[],0,None),
]
gem = evalsets.corpus("multihop-dev") / "TechCrunch_Early_impressions_of_Google_s_Gemini_aren_t_great.md"
def sent_span(text, snip):
    i = text.index(snip)
    # a sentence starts after ". " / newline before i and ends at the next ". " / newline
    start = max(text.rfind(". ", 0, i) + 2 if text.rfind(". ", 0, i) >= 0 else 0, text.rfind("\n", 0, i) + 1)
    if text[start:i].strip():
        start = i
    m = re.compile(r"[.!?](?=\s|$)").search(text, i + len(snip) - 1)
    return start, m.end()
out = []
for id, corpus, kind, q, verdict, keys, need, sides in Q:
    if id == "own14":
        t = gem.read_text("utf-8"); body = t.index("\n# "); body = t.index("\n\n", body) + 2
        keys = [(gem.name, s.strip()[:40]) for s in t[body:].split("\n\n") if s.strip()][:5]
    folder = evalsets.corpus(corpus)
    spans = []
    for src, snip in keys:
        text = (folder / src).read_text("utf-8")
        a, b = sent_span(text, snip)
        spans.append({"source": src, "start": a, "end": b})
    out.append({"id": id, "corpus": corpus, "kind": kind, "question": q, "key": spans, "need": need,
                "verdict": verdict, "unanswerable": kind == "off-topic", **({"sides": sides} if sides else {})})
Path("bench/data/nonfactoid-own.jsonl").write_text("".join(json.dumps(r) + "\n" for r in out))
for r in out:
    for k in r["key"]:
        print(r["id"], repr((evalsets.corpus(r["corpus"]) / k["source"]).read_text("utf-8")[k["start"]:k["end"]][:90]))
