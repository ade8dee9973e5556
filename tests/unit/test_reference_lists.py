"""Reference lists as real PDFs print them (issue 15): the styles and layouts of the development
set's papers, each written here as the text pdfium gives for it (invented entries)."""
from __future__ import annotations

import pytest

from paperlens.core.references import extract_title, find_reference_section, parse_references
from paperlens.core.references.fields import extract_first_author


# ---------------------------------------------------------------------------------------
# titles after "Surname, I." author lists (ACM small caps, Springer LNCS, SIGOPS)

@pytest.mark.parametrize("entry, title", [
    ("Lamport, L.: Paxos made simple. ACM SIGACT News 32(4), 18–25 (2001)", "Paxos made simple"),
    ("Lamport, L. Paxos made simple. ACM SIGACT News 32, 4 (Dec. 2001), 18–25.", "Paxos made simple"),
    ("GILBERT, S., AND LYNCH, N. Brewer’s conjecture and the feasibility of consistent, available, "
     "partition-tolerant web services. ACM SIGACT News (2002).",
     "Brewer’s conjecture and the feasibility of consistent, available, partition-tolerant web services"),
    ("THOMSON, A., DIAMOND, T., WENG, S.-C., REN, K., SHAO, P., AND ABADI, D. J. Calvin: fast distributed "
     "transactions for partitioned database systems. In SIGMOD (2012).",
     "Calvin: fast distributed transactions for partitioned database systems"),
    ("Oki, Brian M., and Liskov, Barbara H. Viewstamped Replication: A New Primary Copy Method. In "
     "Proceedings of the 7th PODC (1988), pp. 8–17.", "Viewstamped Replication: A New Primary Copy Method"),
    ("Chandra, T.D., Griesemer, R., Redstone, J.: Paxos made live: an engineering perspective. In: Proc. "
     "26th PODC, pp. 398–407 (2007)", "Paxos made live: an engineering perspective"),
    ("Gray, J., and Lamport, L. Consensus on transaction commit. Trans. on Database Systems 31, 1 (Mar. "
     "2006), 133–160.", "Consensus on transaction commit"),
    ("LAMPORT, L. Time, Clocks, and the Ordering of Events in a Distributed System. Comm. of the ACM 21, 7 "
     "(July 1978), 558–565.", "Time, Clocks, and the Ordering of Events in a Distributed System"),
    ("Graves, A., Mohamed, A.r., Hinton, G.: Speech recognition with deep recurrent neural networks. In: "
     "ICASSP. pp. 6645–6649. IEEE (2013)", "Speech recognition with deep recurrent neural networks"),
    ("Wodnicki, J.M. and Kurtz, S.C.: Performance Evaluation of a Utility. IBM Document, 1989.",
     "Performance Evaluation of a Utility"),
    ("Bertsekas, D. (2003) Nonlinear Programming. Springer US, 51–88.", "Nonlinear Programming"),
    ("Paquet, U., Koenigstein, N. (2013, May). One-class collaborative filtering with random graphs. In "
     "WWW.", "One-class collaborative filtering with random graphs"),
    # names only before "(2013)", one of them broken by a stray period
    ("Brendan H., Holt G., Sculley D., Phillips. T, Davydov E., Kubica J. (2013) Ad Click Prediction: a "
     "View from the Trenches. Proceedings of the 19-th KDD.", "Ad Click Prediction: a View from the Trenches"),
    # the title set off by a comma, no period after it
    ("Agrawal, A., Hsu, D., Kale, S., Schapire, R. E.: Taming the Monster: A Fast and Simple Algorithm "
     "for Contextual Bandits, ICML, 2014.", "Taming the Monster: A Fast and Simple Algorithm for Contextual Bandits"),
    ("Auer, P., Cesa Bianchi, N., Fischer, P.: Finite-time Analysis of the Multiarmed Bandit Problem, "
     "Machine Learning,47, 235-256, 2002.", "Finite-time Analysis of the Multiarmed Bandit Problem"),
    ("Valiant, L.: A theory of the learnable, Communications of the ACM, 27, 1984.", "A theory of the learnable"),
    ("Gelly, S. et al. The grand challenge of computer Go: Monte Carlo tree search and extensions. "
     "Commun. ACM 55, 106–113 (2012).", "The grand challenge of computer Go: Monte Carlo tree search and extensions"),
    ("ROSENKRANTZ, D. J., STEARNS, R. E., AND LEWIS, P. M., II. System level concurrency control for "
     "distributed database systems. ACM Trans. Database Syst. 3, 2 (1978).",
     "System level concurrency control for distributed database systems"),
    # full names and commas, no period before the title (and DBLP's colon)
    ("H. Brendan McMahan, Gary Holt, D. Sculley, Michael Young, Dietmar Ebner, Jeremy Kubica, Ad Click "
     "Prediction: a View from the Trenches. In ACM SIGKDD 2013.", "Ad Click Prediction: a View from the Trenches"),
    ("Jason McHugh, Serge Abiteboul, Roy Goldman, Dallan Quass, Jennifer Widom: Lore: A Database "
     "Management System for Semistructured Data. SIGMOD Record 26(3): 54-66 (1997)",
     "Lore: A Database Management System for Semistructured Data"),
    ("P. A. Bernstein, D. W. Shipman, and J. B. Rothnie, Jr. Concurrency control in a system for "
     "distributed databases (SDD-1). ACM TODS, 5(1):18–51, Mar. 1980.",
     "Concurrency control in a system for distributed databases (SDD-1)"),
    ("M. G. Bellemare, Y. Naddaf, J. Veness, and M. Bowling, The Arcade Learning Environment: An Evaluation "
     "Platform for General Agents. JAIR. Volume 47, 2013.",
     "The Arcade Learning Environment: An Evaluation Platform for General Agents"),
    # not this style: full names, or names that go on in another style
    ("Jeffrey Dean, Gregory S. Corrado, Rajat Monga, and Andrew Y. Ng. Large scale distributed deep "
     "networks. In NIPS, 2012.", "Large scale distributed deep networks"),
    ("Jonathan Ragan-Kelley, Connelly Barnes, Andrew Adams, Sylvain Paris, and Saman Amarasinghe. Halide: "
     "A language and compiler for image processing pipelines. In PLDI, 2013.",
     "Halide: A language and compiler for image processing pipelines"),
    ("Tomas Mikolov, Anoop Deoras, Daniel Povey, Lukas Burget and Jan Cernocky. Strategies for Training "
     "Large Scale Neural Network Language Models. In Proc. ASRU, 2011.",
     "Strategies for Training Large Scale Neural Network Language Models"),
    ("Richard Socher, Cliff C. Lin, Andrew Y. Ng, and Christopher D. Manning. Parsing natural scenes "
     "with recursive neural networks. In ICML, 2011.", "Parsing natural scenes with recursive neural networks"),
    ("Berry, Donald A., Bert Fristedt. 1985. Bandit Problems. Chapman Hall.", "Bandit Problems"),
    ("Bradt, R. N., S. M. Johnson, S. Karlin. 1956. On Sequential Designs for Maximizing the Sum of n "
     "Observations. Annals of Mathematical Statistics 27(4).",
     "On Sequential Designs for Maximizing the Sum of n Observations"),
    ("Manchanda, Puneet, Jean-Pierre Dube, K.Y. Goh, P.K. Chintagunta. 2006. The Effect of Banner "
     "Advertising on Internet Purchasing. Journal of Marketing Research 43(1).",
     "The Effect of Banner Advertising on Internet Purchasing"),
])
def test_titles_after_surname_initials_authors(entry, title):
    assert extract_title(entry) == title


# ---------------------------------------------------------------------------------------
# where the list is

def test_chinese_heading():
    text = "正文 [1]。\n参考文献\n[1] Convex function. http://en.wikipedia.org/wiki/Convex_function\n" \
           "[2] A. Author. A title. 2020.\n"
    start, end = find_reference_section(text)
    assert text[start:end].startswith("[1] Convex function.")
    assert [e.label for e in parse_references(text)] == ["1", "2"]


APPENDIX_AFTER_LIST = (
    "We thank our colleagues.\nReferences\n"
    "Goldberg, Y. and Levy, O. (2014). word2vec explained: deriving the negative-sampling method.\n"
    "arXiv:1402.3722.\n"
    "Mikolov, T., Chen, K., Corrado, G., and Dean, J. (2013a). Efficient estimation of word\n"
    "representations in vector space. arXiv preprint arXiv:1301.3781.\n"
    "Morin, F. and Bengio, Y. (2005). Hierarchical probabilistic neural network language model.\n"
    "In AISTATS, volume 5, pages 246–252.\n"
    "A Back Propagation Basics\n"
    "A.1 Learning Algorithms for a Single Unit\n"
    "The unit works in the following way:\n"
    "y = f(u), (62)\n"
    "1 if u > 0\n"
    "0 otherwise (65)\n"
    "B Omitted Proofs\n"
    "2 Using this lemma, we derive the bound.\n"
)


def test_list_ends_at_lettered_appendix_headings():
    start, end = find_reference_section(APPENDIX_AFTER_LIST)
    assert APPENDIX_AFTER_LIST[start:end].rstrip().endswith("pages 246–252.")


def test_author_year_list_is_not_taken_for_numbers_in_the_maths_after_it():
    entries = parse_references(APPENDIX_AFTER_LIST)
    assert [e.title for e in entries] == [
        "word2vec explained: deriving the negative-sampling method",
        "Efficient estimation of word representations in vector space",
        "Hierarchical probabilistic neural network language model",
    ]


def test_numbered_list_starts_at_the_top_of_the_section():
    text = ("References\nAuer, P. (2002). Using confidence bounds. JMLR, 3:397–422.\n"
            "Chapelle, O. and Li, L. (2011). An empirical evaluation of Thompson sampling. In NIPS.\n"
            "Lai, T. L. and Robbins, H. (1985). Asymptotically efficient adaptive allocation rules.\n"
            "Some prose after the list that has an equation.\n"
            "1 - x is small when x is close to one\n")
    entries = parse_references(text)
    assert [e.title for e in entries] == ["Using confidence bounds",
                                          "An empirical evaluation of Thompson sampling",
                                          "Asymptotically efficient adaptive allocation rules"]


def test_list_without_heading_is_found_by_its_labels():
    entries_text = "".join(f"[{key}] A. Author. Title number {i}. In Proc. X, 19{80 + i}.\n"
                           for i, key in enumerate(["Apa01", "BEA01", "BHM90", "Bre01", "CG99", "GL02"]))
    text = ("Body text citing [GL02] and [Bre01].\n" * 40 +
            "Acknowledgments: We would like to thank many people.\n" + entries_text)
    start, _ = find_reference_section(text)
    assert text[start:].startswith("[Apa01]")
    entries = parse_references(text)
    assert [e.label for e in entries] == ["Apa01", "BEA01", "BHM90", "Bre01", "CG99", "GL02"]
    assert entries[-1].title == "Title number 5"


def test_no_list_without_heading_from_a_few_bracketed_lines():
    text = "Body.\n" * 40 + "[1] a note\n[2] another note\n"
    assert find_reference_section(text) is None


# ---------------------------------------------------------------------------------------
# splitting

def test_author_year_key_labels():
    text = ("10. REFERENCES\n"
            "[ACL87] Agrawal, R., Carey, M. J., and Livny, M. “Concurrency\n"
            "control performance modeling: alternatives and implications.”\n"
            "ACM Trans. Database Syst. 12(4), Dec. 1987.\n"
            "[AMS+07] Aguilera, M., Merchant, A., Shah, M., Veitch, A. C.,\n"
            "and Karamanolis, C. T. “Sinfonia: a new paradigm for building\n"
            "scalable distributed systems.” In Proc. SOSP, 2007.\n"
            "[GS92] Garcia-Molina, H. and Salem, K. “Main Memory Database\n"
            "Systems: An Overview.” IEEE Trans. Knowl. Data Eng. 4(6), 1992.\n")
    entries = parse_references(text)
    assert [e.label for e in entries] == ["ACL87", "AMS+07", "GS92"]
    assert [e.title for e in entries] == [
        "Concurrency control performance modeling: alternatives and implications",
        "Sinfonia: a new paradigm for building scalable distributed systems",
        "Main Memory Database Systems: An Overview",
    ]
    assert [e.year for e in entries] == ["1987", "2007", "1992"]


def test_author_year_entries_that_start_with_initials():
    text = ("References\n"
            "P. Auer, N. Cesa-Bianchi, and P. Fischer. Finite-time analysis of the multiarmed bandit problem.\n"
            "Machine Learning, 47(2-3):235–256, 2002.\n"
            "O. Chapelle and L. Li. An empirical evaluation of thompson sampling. In NIPS, 2011.\n"
            "J. C. Gittins. Multi-armed Bandit Allocation Indices. Wiley Interscience Series in Systems and\n"
            "Optimization. John Wiley and Son, 1989.\n"
            "O.-C. Granmo. Solving two-armed bernoulli bandit problems using a bayesian learning automaton.\n"
            "International Journal of Intelligent Computing and Cybernetics, 3(2):207–234, 2010.\n"
            "John Langford. Interactive machine learning, January 2014. URL\n"
            "http://hunch.net/~jl/projects/interactive/index.html.\n")
    entries = parse_references(text)
    assert entries[-1].text.startswith("John Langford. Interactive machine learning")
    assert [e.title for e in entries[:-1]] == [
        "Finite-time analysis of the multiarmed bandit problem",
        "An empirical evaluation of thompson sampling",
        "Multi-armed Bandit Allocation Indices",
        "Solving two-armed bernoulli bandit problems using a bayesian learning automaton",
    ]


# ---------------------------------------------------------------------------------------
# first authors

@pytest.mark.parametrize("entry, surname", [
    ("Lamport, L.: Paxos made simple. ACM SIGACT News 32(4), 18–25 (2001)", "Lamport"),
    ("LAMPORT, L. Time, clocks, and the ordering of events. CACM (1978).", "LAMPORT"),
    ("[ACL87] Agrawal, R., Carey, M. J., and Livny, M. “Concurrency control.” 1987.", "Agrawal"),
    ("P. Auer, N. Cesa-Bianchi, and P. Fischer. Finite-time analysis. 2002.", "Auer"),
    ("Leslie Lamport. Paxos made simple. ACM SIGACT News, 2001.", "Lamport"),
    ("van Renesse, R.: Paxos made moderately complex. Technical Report (2011)", "van Renesse"),
    ("Aaron van den Oord, Nal Kalchbrenner. Pixel recurrent neural networks. In ICML, 2016.", "van den Oord"),
    ("Ho J, Jain A, Abbeel P. Denoising diffusion probabilistic models. 2020.", "Ho"),
    ('L. Lamport, “The part-time parliament,” ACM TOCS, 1998.', "Lamport"),
    ("Lamport, Shostak, and Pease. The byzantine generals problem. 1995.", "Lamport"),
    ("Amazon simpledb. http://aws.amazon.com/simpledb/.", ""),
    ("", ""),
])
def test_extract_first_author(entry, surname):
    assert extract_first_author(entry) == surname


def test_a_short_second_list_does_not_hide_the_papers_own():
    own = "".join(f"[{i}] A. Author{i}. Title {i}. In Proc. X, {1990 + i}.\n" for i in range(1, 9))
    text = ("Body text of the paper.\n" * 40 + "References\n" + own + "Acknowledgements\nWe omitted some names.\n"
            "References\n[1] M. Litzkow. Condor. In ICDCS, June 1988.\n")
    entries = parse_references(text)
    assert [e.label for e in entries] == [str(i) for i in range(1, 9)]


def test_unheaded_numbered_list_after_the_text():
    refs = "".join(f"{i}. {name}, A. B. Title number {i}. J. Stuff {i}, 1–9 ({1990 + i}).\n"
                   for i, name in enumerate(["Allis", "van den Herik", "Schaeffer", "Sheppard", "Tesauro"], 1))
    text = "Intro text.\n" * 30 + "Received 11 November 2015; accepted 5 January 2016.\n" + refs
    entries = parse_references(text)
    assert [e.label for e in entries] == ["1", "2", "3", "4", "5"]
    assert entries[1].title == "Title number 2"


def test_numbered_steps_without_years_are_not_an_unheaded_list():
    text = "Intro text.\n" * 30 + "".join(f"{i}. Do step {i} of the method.\n" for i in range(1, 8))
    assert find_reference_section(text) is None


@pytest.mark.parametrize("entry, title", [
    ("Abbasi-Yadkori Y., Pal D., and Szepesvari, C.: Improved Algorithms for Linear Stochastic Bandits, "
     "NIPS, 2011.", "Improved Algorithms for Linear Stochastic Bandits"),
    ("Baransi, Akram and Maillard, Odalric-Ambrym and Mannor, Shie: Sub-sampling for Multi-armed Bandits, "
     "Machine Learning and Knowledge Discovery in Databases, 8724, 115-131, 2014.", "Sub-sampling for Multi-armed Bandits"),
    ("N. Budhiraja, K. Marzullo, F. B. Schneider, and S. Toueg, Distributed systems (2nd Ed.). ACM "
     "Press/Addison-Wesley Publishing Co., 1993, ch. 8, pp. 199–216.", "Distributed systems (2nd Ed.)"),
    ("Rumelhart, D.E., Hinton, G.E., Williams, R.J.: Parallel distributed processing: Explorations in the "
     "microstructure of cognition, vol. 1, pp. 318-362. MIT Press, Cambridge, 1986.",
     "Parallel distributed processing: Explorations in the microstructure of cognition"),
    ("Muthukkaruppan, K.: The underlying technology of messages (2011) (acc. October 5, 2011)",
     "The underlying technology of messages"),
    ("Gray, J. N.. Lorie, R. A. Putzolu, G. F., and Traiger, I. L. Granularity of locks and degrees of "
     "consistency in a shared data base. In Modeling in Data Base Management Systems, 1976.",
     "Granularity of locks and degrees of consistency in a shared data base"),
    ("Breiman, L.: Random Forest, Machine Learning, 45:5-32, 2001.", "Random Forest"),
    # a sentence before the colon: the colon is the title's
    ("D. Lewis, Y. Yang, T. Rose, and F. Li. RCV1: A new benchmark collection for text categorization "
     "research. JMLR, 5:361–397, 2004.", "RCV1: A new benchmark collection for text categorization research"),
    ("M. Abadi, P. Barham, J. Chen, et al. Tensorflow: A system for large-scale machine learning. In OSDI, 2016.",
     "Tensorflow: A system for large-scale machine learning"),
])
def test_more_title_styles(entry, title):
    assert extract_title(entry) == title


def test_years_before_1950():
    entries = parse_references("References\n[1] W. R. Thompson. On the likelihood that one unknown "
                               "probability exceeds another. Biometrika, 25(3-4):285–294, 1933.\n")
    assert entries[0].year == "1933"


def test_unnumbered_list_details():
    text = ("References\n"
            "E. Kaufmann, O. Cappe, and A. Garivier. On bayesian upper confidence bounds for bandit prob- ´\n"
            "lems. In AISTATS, 2012.\n"
            "Abbasi-Yadkori Y., Pal D., and Szepesv ´ ari, C.: Improved ´\n"
            "Algorithms for Linear Stochastic Bandits, NIPS, 2011.\n"
            "Mannor, S., and Tsitsiklis, J. N.: The Sample Complexity of Exploration, JMLR, 2004\n"
            "Rumelhart, D.E., Hinton, G.E., Williams, R.J.: Parallel distributed processing, vol. 1, pp. 318-362.\n"
            "MIT Press, Cambridge, 1986.\n"
            "Van den Oord, A., Kalchbrenner, N., and Kavukcuoglu, K. (2016). Pixel recurrent neural networks.\n"
            "In ICML.\n"
            "Strehl, A. L. and Littman, M. L. (2008). An analysis of model-based interval estimation.\n"
            "Journal of Computer and System Sciences, 74(8):1309 – 1331.\n"
            "C. Villamizar, R. Chandra, and R. Govindan, \"BGP route flap damping,\" RFC 2439, Nov. 1998.\n"
            "[15] T. Griffin, \"What is the sound of one route flapping?,\" Network Modelling Workshop, July 2002.\n")
    entries = parse_references(text)
    assert [e.title for e in entries] == [
        "On bayesian upper confidence bounds for bandit problems",
        "Improved Algorithms for Linear Stochastic Bandits",
        "The Sample Complexity of Exploration",
        "Parallel distributed processing",
        "Pixel recurrent neural networks",
        "An analysis of model-based interval estimation",
        "BGP route flap damping",
        "What is the sound of one route flapping?",
    ]
    assert entries[-1].text.startswith("T. Griffin")


def test_running_header_with_a_page_number_is_not_the_list_heading():
    own = "".join(f"[{i}] A. Author{i}. Title {i}. In Proc. X, {1990 + i}.\n" for i in range(1, 5))
    more = "".join(f"[{i}] A. Author{i}. Title {i}. In Proc. X, {1990 + i}.\n" for i in range(5, 9))
    text = "Body text of the paper.\n" * 40 + "References\n" + own + "118 References\n" + more
    entries = parse_references(text)
    assert [e.label for e in entries] == [str(i) for i in range(1, 9)]


def test_running_headers_inside_entries_are_dropped():
    text = ("References\n[1] Philip A. Bernstein and Nathan Goodman. Concurrency Control in Distributed\n"
            "References 117\nDatabase Systems. ACM Comput. Surv., 13(2):185–221, 1981.\n"
            "[2] A. Other. A title. In Proc., 1990.\n")
    entries = parse_references(text)
    assert entries[0].text == ("Philip A. Bernstein and Nathan Goodman. Concurrency Control in Distributed "
                               "Database Systems. ACM Comput. Surv., 13(2):185–221, 1981.")


@pytest.mark.parametrize("lines, labels", [
    (["[Abu-Mostafa, 1990] Abu-Mostafa, Y. S. (1990). Learning from hints in neural networks. J. Complexity.",
      "[Alonso and Plank, 2017] Alonso, H. M. and Plank, B. (2017). When is multitask learning effective? In EACL.",
      "[Arık et al., 2017] Arık, S. Ö., Chrzanowski, M. (2017). Deep Voice: Real-time Neural Text-to-Speech."],
     ["Abu-Mostafa, 1990", "Alonso and Plank, 2017", "Arık et al., 2017"]),
    (["[Ab] Karl Abrahamson, Andrew Addler. Probabilistic Solitude Verification on a Ring. PODC, 1986.",
      "[Aw] Baruch Awerbuch and Shimon Even. Efficient and Reliable Broadcast. PODC, 1984.",
      "[Be83] M. Ben-Or. Another Advantage of Free Choice. PODC, 1983."],
     ["Ab", "Aw", "Be83"]),
    (["AGR03. L. Azzopardi, M. Girolami & K. van Risjbergen. Investigating perplexity. In Proc. SIGIR. 2003.",
      "BaRi99. R. A. Baeza-Yates & B. A. Ribeiro-Neto. Modern Information Retrieval. ACM Press, 1999.",
      "BNJ03. ———. Latent Dirichlet allocation. Journal of Machine Learning Research, 3:993–1022, 2003."],
     ["AGR03", "BaRi99", "BNJ03"]),
])
def test_more_key_labels(lines, labels):
    entries = parse_references("References\n" + "\n".join(lines) + "\n")
    assert [e.label for e in entries] == labels
    assert not entries[0].text.startswith(("[", "AGR03"))


def test_list_ends_at_a_received_line():
    text = ("References\nYakowitz, S., & Lowe, W. (1991). Nonparametric bandit methods. Annals of OR, 28.\n"
            "Received September 29, 2000\nRevised May 21, 2001\nAccepted June 20, 2001\n")
    entries = parse_references(text)
    assert len(entries) == 1 and entries[0].text.endswith("Annals of OR, 28.")


def test_ieee_entries_whose_labels_a_scan_lost():
    text = ("BIBLIOGRAPHY\n"
            "Cisco Documentation: Using the Border Gateway Protocol. (2006, January). [Online]. Available:\n"
            "http://www.cisco.com/univercd/cc/td/doc/cisintwk/ics/icsbgp4.htm.\n"
            "C. Labovitz, G. Malan, and F. Jahanian, \"Origins of Internet routing instability,\"\n"
            "in Proc. INFOCOM, New York, NY, Mar. 1999, pp. 218-226.\n"
            "R. Govindan and A. Reddy, \"An analysis of Internet inter-domain topology and\n"
            "route stability,\" in Proc. INFOCOM 1997, Kobe, Japan, Apr. 1997, pp. 850-857\n"
            "K. Varadhan, R. Govindan, and D. Estrin, \"Persistent route oscillations in inter-domain\n"
            "routing,\" Computer Networks, vol. 32, no. 1, pp. 1-16, Jan. 2000.\n")
    entries = parse_references(text)
    assert [e.title for e in entries[1:]] == ["Origins of Internet routing instability",
                                              "An analysis of Internet inter-domain topology and route stability",
                                              "Persistent route oscillations in inter-domain routing"]


def test_list_ends_at_lettered_appendix_with_punctuation_and_at_biographies():
    text = ("References\n[1] M. Zinkevich. Parallelized stochastic gradient descent. In NIPS, 2010.\n"
            "A Analysis of Hogwild!\nIt follows by rearrangement.\nA.1 Proof of the bound\n")
    start, end = find_reference_section(text)
    assert text[start:end].rstrip().endswith("In NIPS, 2010.")
    bios = ("References\n1. F. Douglis et al., \"Rate of Change and other Metrics,\" Usenix, 1997.\n"
            "John Dilley is a principal architect at Akamai Technologies. He helped develop the proxy.\n")
    start, end = find_reference_section(bios)
    assert bios[start:end].rstrip().endswith("Usenix, 1997.")
