"""The cookie vault: users' cookies.txt files for logged-in content, encrypted at rest."""
