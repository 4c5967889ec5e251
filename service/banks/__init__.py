"""What banks may see: a measure's eligibility compiled into SQL, and the disclosure log."""
