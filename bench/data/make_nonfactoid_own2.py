"""Build qa/evalsets/nonfactoid-own/questions.jsonl (session 30's held-out check of issue #24) from snippet keys:
each snippet begins (or lies inside) one whole sentence, the key is that sentence. Written before any tuning
of that session, over passages of the SQuAD articles no nonfactoid-dev question uses and one news article;
never tuned on.

    .venv/bin/python bench/data/make_nonfactoid_own2.py
"""
import json
import re
from pathlib import Path

from qa import evalsets

H, E, C = "Harvard_University.txt", "European_Union_law.txt", "Computational_complexity_theory.txt"
SHIP = "Fortune_The_shipping_industry_s_boom_and_bust_cycle_is_so_severe_carriers_face_g.md"
S = "squad-dev"
# id, corpus, kind, question, verdict, [(source, snippet)], need, sides
Q = [
 ("nfo01", S, "summary", "Summarize the article on European Union law.", None,
  [(E, s) for s in ["European Union law is a body of treaties", "The three sources of European Union law",
                    "The main sources of primary law are", "Secondary sources include regulations and directives",
                    "The legislature of the European Union is principally", "European Union law is applied by the courts",
                    "Although the European Union does not have a codified", "The primary law of the EU consists mainly"]], 3, None),
 ("nfo02", S, "summary", "Give me an overview of Harvard's endowment.", None,
  [(H, s) for s in ["Harvard has the largest university endowment in the world.", "It was worth $32 billion in 2011",
                    "In December 2008, Harvard announced that its endowment", "Later reports suggest the loss",
                    "Harvard's $37.6 billion financial endowment", "The nominal cost of attendance is high",
                    "As of September 2011", "It suffered about 30% loss"]], 2, None),
 ("nfo03", S, "summary", "Summarize what the documents say about the P versus NP problem.", None,
  [(C, s) for s in ["The question of whether P equals NP is one of the most important", "If the answer is yes, many important problems",
                    "The P versus NP problem is one of the Millennium Prize Problems", "The complexity class NP, on the other hand",
                    "If P is not equal to NP, then P is not equal to PSPACE", "It has been shown that if these two complexity classes are not equal",
                    "The complexity class P is often seen"]], 2, None),
 ("nfo04", "multihop-dev", "summary", "Summarize the Fortune article about the shipping industry's boom-and-bust cycle.", None,
  [(SHIP, s) for s in ["The biggest carriers posted net income", "“Each actor will have to be responsible"]], 2, None),
 ("nfo05", S, "list", "What are the general principles of European Union law?", None,
  [(E, s) for s in ["Accepted general principles of European Union Law include", "Proportionality is recognised one of the general principles",
                    "The concept of legal certainty is recognised", "Fundamental rights, as in human rights, were first recognised",
                    "The principles of European Union law are rules of law"]], 2, None),
 ("nfo06", S, "list", "What kinds of athletic facilities does Harvard have?", None,
  [(H, s) for s in ["Harvard has several athletic facilities, such as the Lavietes", "The Malkin Athletic Center, known as the",
                    "The five-story building includes two cardio rooms", "In 1903, Harvard Stadium introduced",
                    "The Harvard Business School and many of the university's athletics facilities"]], 2, None),
 ("nfo07", S, "list", "What museums does Harvard operate?", None,
  [(H, s) for s in ["Harvard operates several arts, cultural, and scientific museums.", "The Harvard Art Museums comprises three museums.",
                    "The Arthur M. Sackler Museum includes", "The Harvard Museum of Natural History includes",
                    "Other museums include the Carpenter Center"]], 3, None),
 ("nfo08", S, "why", "Why did the 2004 Treaty establishing a Constitution for Europe never come into force?", None,
  [(E, "However, as a result of the referendum in France")], 1, None),
 ("nfo09", S, "why", "Why did Harvard end its early admissions program in 2007?", None,
  [(H, "Harvard College ended its early admissions program in 2007")], 1, None),
 ("nfo10", S, "why", "Why is integer factorization important for cryptography?", None,
  [(C, "No efficient integer factorization algorithm is known")], 1, None),
 ("nfo11", S, "why", "Why couldn't the football field simply be widened, as Walter Camp suggested?", None,
  [(H, s) for s in ["But the stadium was too narrow", "The stadium's structure actually played a role"]], 1, None),
 ("nfo12", S, "how", "How did Conant try to open Harvard to talented students?", None,
  [(H, s) for s in ["He saw higher education as a vehicle of opportunity", "James Bryant Conant (president, 1933"]], 1, None),
 ("nfo13", S, "how", "How is free movement of goods achieved within the European Union?", None,
  [(E, s) for s in ["Free movement of goods within the European Union is achieved", "The EU manages imports from non-member states",
                    "In addition under the Treaty on the Functioning of the European Union article 34"]], 1, None),
 ("nfo14", S, "how", "How can squaring an integer be reduced to multiplication?", None,
  [(C, s) for s in ["For example, the problem of squaring an integer can be reduced", "This means an algorithm for multiplying two integers",
                    "Indeed, this can be done by giving the same input", "Thus we see that squaring is not more difficult"]], 2, None),
 ("nfo15", S, "how", "How did football's rules change when the stadium could not be widened?", None,
  [(H, s) for s in ["Camp would instead support revolutionary new rules", "These included legalizing the forward pass",
                    "So, other steps had to be taken."]], 1, None),
 ("nfo16", S, "yesno", "Did the UK sign the Social Charter?", "no", [(E, "The UK refused to sign the Social Charter")], 1, None),
 ("nfo17", S, "yesno", "Has it been proven that NP is not equal to co-NP?", "no",
  [(C, "It is believed that NP is not equal to co-NP")], 1, None),
 ("nfo18", S, "yesno", "Is Harvard's football team still one of the best in the country?", "no",
  [(H, "While Harvard's football team is no longer one of the country's best")], 1, None),
 ("nfo19", S, "yesno", "Has Harvard topped the Academic Ranking of World Universities since 2003?", "yes",
  [(H, "In particular, it has consistently topped the Academic Ranking")], 1, None),
 ("nfo20", S, "yesno", "Do families earning under $60,000 pay anything to send their children to Harvard?", "no",
  [(H, "Beginning 2007, families with incomes below $60,000 pay nothing")], 1, None),
 ("nfo21", S, "compare", "Compare the best case with the worst case of quicksort.", None,
  [(C, s) for s in ["The best case occurs when each pivoting", "The worst-case is when the input is sorted"]], 2, [[0], [1]]),
 ("nfo22", S, "compare", "Compare Harvard's Cambridge campus with its Allston campus.", None,
  [(H, s) for s in ["Harvard's 209-acre (85 ha) main campus is centered", "Harvard Yard itself contains the central administrative",
                    "The Harvard Business School and many of the university's athletics facilities",
                    "Harvard has purchased tracts of land in Allston", "The university now owns approximately fifty percent more land"]],
  2, [[0, 1], [2, 3, 4]]),
 ("nfo23", S, "off-topic", "Summarize the article about the Roman Empire.", None, [], 0, None),
 ("nfo24", "multihop-dev", "off-topic", "Why did the Hindenburg airship catch fire?", None, [], 0, None),
]


def sent_span(text: str, snip: str) -> tuple[int, int]:
    """The sentence that holds `snip`: from after the previous sentence end (or line start) to its own end."""
    i = text.index(snip)
    prev = max((m.end() for m in re.finditer(r"[.!?”\"](?=\s)\s+", text[:i])), default=0)
    start = max(prev, text.rfind("\n", 0, i) + 1)
    m = re.compile(r"[.!?](?=[\s”\"]|$)[”\"]?").search(text, i + len(snip) - 1)
    return start, m.end()


def main() -> None:
    out = []
    for id_, corpus, kind, q, verdict, keys, need, sides in Q:
        folder = evalsets.corpus(corpus)
        spans = []
        for src, snip in keys:
            a, b = sent_span((folder / src).read_text("utf-8"), snip)
            spans.append({"source": src, "start": a, "end": b})
        out.append({"id": id_, "corpus": corpus, "kind": kind, "question": q, "key": spans, "need": need,
                    "verdict": verdict, "unanswerable": kind == "off-topic", **({"sides": sides} if sides else {})})
    target = Path(__file__).resolve().parents[2] / "qa/evalsets/nonfactoid-own/questions.jsonl"
    target.write_text("".join(json.dumps(r) + "\n" for r in out), "utf-8")
    for r in out:
        for k in r["key"]:
            text = (evalsets.corpus(r["corpus"]) / k["source"]).read_text("utf-8")
            print(r["id"], repr(text[k["start"]:k["end"]][:70]), "...", repr(text[k["start"]:k["end"]][-30:]))


if __name__ == "__main__":
    main()
